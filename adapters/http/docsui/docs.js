// Renders the service's own OpenAPI document. validatorUrl is null because Swagger UI's
// default validator badge would send the document to an outside host; the page must work
// offline and talk to this service only.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});

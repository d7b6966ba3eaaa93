package main

import (
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/http/openapi"
	"github.com/brokerly/accounts/internal/servicetest"
)

// The docs page of the real binary renders in headless Chromium with every other host
// unreachable: Swagger UI lists every operation of the OpenAPI document, the page asks
// nothing of any host but the service, its Content-Security-Policy refuses nothing it
// needs, and no script fails.
func TestDocsPageRendersEveryOperationOffline(t *testing.T) {
	t.Parallel()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is missing: run `go tool task deps`, which installs it (scripts/apt-install.sh chromium chromium: apt-get install -y chromium)")
	}
	svc := servicetest.Start(t, servicetest.NewDatabaseURL(t))

	ctx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		// Every host but 127.0.0.1 is unreachable: requests go to a proxy that is not
		// there (Chromium never proxies loopback), and no name resolves.
		chromedp.ProxyServer("http://"+closedPort(t)),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
	)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()

	var mu sync.Mutex
	var requested, failures []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requested = append(requested, ev.Request.URL)
		case *network.EventLoadingFailed:
			failures = append(failures, "a load failed: "+ev.ErrorText)
		case *runtime.EventExceptionThrown:
			failures = append(failures, "a script threw: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				failures = append(failures, "the console logged an error: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	}))
	require.NoError(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.cspViolations = []; document.addEventListener("securitypolicyviolation",
				e => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));`,
		})
		return err
	})))

	want := documentedOperations(t)
	run, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	require.NoError(t, chromedp.Do(run, chromedp.Navigate(svc.URL+"/docs")))
	_, err = chromedp.Run(run, chromedp.Poll[bool](
		`document.querySelectorAll(".opblock .opblock-summary-path").length >= `+strconv.Itoa(len(want)),
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err, "Swagger UI did not render the operations")
	rendered, err := chromedp.Run(run, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".opblock")).map(b =>
		b.querySelector(".opblock-summary-method").textContent.trim().toUpperCase() + " " +
		b.querySelector(".opblock-summary-path").getAttribute("data-path"))`))
	require.NoError(t, err)
	title, err := chromedp.Run(run, chromedp.Evaluate[string](`document.querySelector(".info .title").textContent`))
	require.NoError(t, err)
	violations, err := chromedp.Run(run, chromedp.Evaluate[[]string](`window.cspViolations`))
	require.NoError(t, err)

	slices.Sort(rendered)
	assert.Equal(t, want, rendered, "the page lists every operation of the document, and only those")
	assert.Contains(t, title, "Brokerly accounts API")
	assert.Empty(t, violations, "the Content-Security-Policy refused something the page needs")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, failures)
	require.NotEmpty(t, requested)
	for _, u := range requested {
		assert.True(t, strings.HasPrefix(u, svc.URL+"/") || strings.HasPrefix(u, "data:"), "the page asked another host for %s", u)
	}
}

// documentedOperations lists the document's operations as the page shows them.
func documentedOperations(t *testing.T) []string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openapi.Document(), &doc))
	var out []string
	for path, item := range doc.Paths {
		for method := range item {
			if method != "parameters" {
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(out)
	require.NotEmpty(t, out)
	return out
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

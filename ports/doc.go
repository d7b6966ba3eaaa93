// Package ports declares what the use cases need from the outside world, as small
// interfaces that adapters implement. It imports the domain and the standard library only.
package ports

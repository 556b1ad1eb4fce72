// Package promserver runs a real Prometheus server for tests, the sandbox and
// the end-to-end suite.
//
// The server is the binary named by $SLUICE_PROMETHEUS (`make test` sets it),
// else the one `hack/tools.sh path prometheus` finds (Debian's package, or one
// built from the Go module proxy; `make tools` installs it). It listens on a
// free loopback port, keeps its configuration and storage in a temporary
// directory, and scrapes the given targets every second:
//
//	srv := promserver.Start(t, strings.TrimPrefix(app.URL, "http://"))
//	srv.WaitForTargets(ctx) // every target scraped once
//	// query srv.URL() ...
//
// Start stops the server when the test ends and fails the test, telling to
// run `make tools`, when the binary is missing: a test that silently skips
// proves nothing. Run is the same without a testing.TB, for long-lived users
// that call Stop themselves.
//
// The package is named promserver, not prometheus, so that tests can import
// it next to client_golang's prometheus package and Sluice's provider.
package promserver

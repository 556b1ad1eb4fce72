package outbound

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"
)

// RedirectError is a 3xx answer, which Sluice does not follow: following it
// would send the request (and any credentials) somewhere the spec does not
// name, possibly somewhere the policy would refuse. It keeps only the status,
// never the Location or the body.
type RedirectError struct {
	// Status is the answer's status line, for example "302 Found".
	Status string
}

// Error says that the answer was a redirect and what to do about it.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("answered %s, a redirect, which Sluice does not follow: use the final URL in the spec", Excerpt(e.Status, 64))
}

// Transport returns an HTTP transport that dials through the policy, uses no
// proxy (a proxy would dial for it, out of the policy's sight) and turns every
// redirect into a *RedirectError. tlsConfig may be nil.
func (p Policy) Transport(tlsConfig *tls.Config) http.RoundTripper {
	return &refuseRedirects{next: &http.Transport{
		Proxy:                 nil,
		DialContext:           p.DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// Client returns an HTTP client that sends requests through rt (normally a
// Transport of the policy, perhaps wrapped to add authentication) and never
// follows a redirect.
func Client(rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// HTTPClient returns Client(p.Transport(nil)).
func (p Policy) HTTPClient() *http.Client {
	return Client(p.Transport(nil))
}

// refuseRedirects turns a 3xx answer into an error before anything can read
// or follow it.
type refuseRedirects struct {
	next http.RoundTripper
}

func (rt *refuseRedirects) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 || resp.StatusCode > 399 || resp.StatusCode == http.StatusNotModified {
		return resp, err
	}
	_ = resp.Body.Close()
	return nil, &RedirectError{Status: resp.Status}
}

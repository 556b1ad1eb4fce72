package outbound

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
)

func TestClientDoesNotFollowRedirects(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		_, _ = io.WriteString(w, "secret from the target")
	}))
	defer target.Close()
	for _, location := range []string{
		target.URL + "/elsewhere",
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"http://127.0.0.1:1/admin",
	} {
		for _, code := range []int{http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			t.Run(http.StatusText(code)+" to "+location, func(t *testing.T) {
				g := NewWithT(t)
				origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, location, code)
				}))
				defer origin.Close()
				c := Policy{Allow: Loopback()}.HTTPClient()
				resp, err := c.Post(origin.URL, "application/json", strings.NewReader("{}"))
				if resp != nil {
					_ = resp.Body.Close()
				}
				var redirect *RedirectError
				g.Expect(errors.As(err, &redirect)).To(BeTrue(), "a redirect is an error: %v", err)
				g.Expect(err.Error()).NotTo(ContainSubstring(location), "the Location is not quoted")
				g.Expect(reached.Load()).To(BeZero(), "the redirect's target was never called")
			})
		}
	}
}

func TestClientRefusesLoopbackByDefault(t *testing.T) {
	g := NewWithT(t)
	var reached atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer srv.Close()
	resp, err := Policy{}.HTTPClient().Get(srv.URL)
	closeBody(resp)
	var refused *RefusedError
	g.Expect(errors.As(err, &refused)).To(BeTrue(), "refused: %v", err)
	g.Expect(reached.Load()).To(BeZero())

	resp, err = Policy{Allow: Loopback()}.HTTPClient().Get(srv.URL)
	g.Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	g.Expect(reached.Load()).To(Equal(int32(1)))
}

func TestTransportIgnoresProxyEnvironment(t *testing.T) {
	g := NewWithT(t)
	// A proxy would dial on Sluice's behalf, out of the policy's sight.
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	resp, err := Policy{Resolver: table{"metadata.test": addrs("169.254.169.254")}}.HTTPClient().Get("http://metadata.test/")
	closeBody(resp)
	g.Expect(err).To(MatchError(ContainSubstring("169.254.169.254 is a cloud metadata address")))
}

// closeBody closes the body of a response a refused request should not
// have had.
func closeBody(resp *http.Response) {
	if resp != nil {
		_ = resp.Body.Close()
	}
}

func TestExcerpt(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"control characters and new lines become spaces", "a\x00b\r\nc\x1b[31md", "a b c [31md"},
		{"invalid UTF-8 becomes a space", "ok\xffok", "ok ok"},
		{"runs of white space collapse", "  a \t\t b  ", "a b"},
		{"long text is cut with an ellipsis", strings.Repeat("x", 40), strings.Repeat("x", 17) + "…"},
		{"a cut never splits a rune", strings.Repeat("é", 20), strings.Repeat("é", 8) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := Excerpt(tc.in, 20)
			g.Expect(got).To(Equal(tc.want))
			g.Expect(len(got)).To(BeNumerically("<=", 20))
		})
	}
}

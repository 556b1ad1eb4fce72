package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// polls is a scripted API server: each poll takes the next answer, and the
// poll after the last ends the watch, as a user pressing ^C would.
type polls struct {
	answers []func() (snapshot, error)
	cancel  context.CancelFunc
	n       int
}

func (p *polls) poll(context.Context) (snapshot, error) {
	if p.n == len(p.answers) {
		p.cancel()
		return snapshot{}, context.Canceled
	}
	p.n++
	return p.answers[p.n-1]()
}

// runLive runs live over the scripted answers with a clock stopped at t0
// and returns what it wrote, how many polls it made and what it returned.
func runLive(terminal bool, answers ...func() (snapshot, error)) (out string, polled int, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &polls{answers: answers, cancel: cancel}
	var b bytes.Buffer
	err = live(ctx, &b, &screen{view: board{}, terminal: terminal}, time.Millisecond,
		func() time.Time { return t0 }, p.poll)
	return b.String(), p.n, err
}

// lines is how many lines of s match the pattern.
func lines(s, pattern string) int {
	return len(regexp.MustCompile(`(?m)`+pattern).FindAllString(s, -1))
}

func good(r release) func() (snapshot, error) {
	return func() (snapshot, error) { return snapshot{releases: []release{r}}, nil }
}

func failing(err error) func() (snapshot, error) {
	return func() (snapshot, error) { return snapshot{}, err }
}

func repeat(n int, answer func() (snapshot, error)) []func() (snapshot, error) {
	as := make([]func() (snapshot, error), n)
	for i := range as {
		as[i] = answer
	}
	return as
}

var (
	errThrottled = fmt.Errorf("list canaries: %w", apierrors.NewTooManyRequests("slow down", 1))
	errTimedOut  = fmt.Errorf("list canaries: %w", apierrors.NewServerTimeout(schema.GroupResource{Resource: "canaries"}, "list", 1))
)

func TestLiveLogsOneLinePerDistinctErrorAndCarriesOn(t *testing.T) {
	g := NewWithT(t)
	moved := podinfo(func(cn *v1alpha1.Canary) { cn.ResourceVersion = "11"; cn.Status.CanaryWeight = 25 })
	answers := append([]func() (snapshot, error){good(podinfo())}, repeat(3, failing(errThrottled))...)
	answers = append(answers, failing(errTimedOut), failing(errThrottled), good(podinfo()), failing(errThrottled), good(moved))
	out, n, err := runLive(false, answers...)
	g.Expect(err).NotTo(HaveOccurred(), "the end of ctx ends the watch quietly")
	g.Expect(n).To(Equal(len(answers)), "every tick polls again")
	g.Expect(lines(out, `^17:20:00 poll failed: list canaries: slow down; retrying$`)).To(Equal(3),
		"once for the first three, once after the timeout, once after the good poll:\n%s", out)
	g.Expect(lines(out, `^17:20:00 poll failed: list canaries: .* could not be completed at this time.*; retrying$`)).To(Equal(1), "%s", out)
	g.Expect(lines(out, `^17:20:00 canary shop/podinfo `)).To(Equal(2),
		"the summary once, and again only when the release changed, not after each outage:\n%s", out)
	g.Expect(out).To(ContainSubstring("weight 25%"))
}

func TestLiveKeepsTheFrameOnATerminalAndSaysWhatFailed(t *testing.T) {
	g := NewWithT(t)
	out, _, err := runLive(true, good(podinfo()), failing(errThrottled), failing(errThrottled), good(podinfo()))
	g.Expect(err).NotTo(HaveOccurred())
	frames := strings.Split(out, cursorHome)[1:]
	g.Expect(frames).To(HaveLen(4), "the frame, twice with the failure, then the frame alone:\n%q", out)
	frame := board{}.frame(snapshot{releases: []release{podinfo()}}, t0)
	line := "last poll failed at 17:20:00: list canaries: slow down; retrying"
	for i, f := range frames {
		plain := strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(f, clearScreen), clearBelow), clearLineRest, "")
		g.Expect(plain).To(HavePrefix(frame), "frame %d keeps the release on screen", i)
		if i == 1 || i == 2 {
			g.Expect(plain).To(HaveSuffix("\n" + line + "\n"))
		} else {
			g.Expect(plain).NotTo(ContainSubstring("last poll failed"))
		}
	}
}

func TestLiveGivesUpAfterTenFailedPollsInARow(t *testing.T) {
	g := NewWithT(t)
	answers := append(repeat(9, failing(errThrottled)), good(podinfo()))
	answers = append(answers, repeat(maxFailedPolls+5, failing(errTimedOut))...)
	out, n, err := runLive(false, answers...)
	g.Expect(n).To(Equal(9+1+maxFailedPolls), "nine failures and a good poll start the count again")
	g.Expect(err).To(MatchError(ContainSubstring("10 polls in a row failed, the last: list canaries:")))
	g.Expect(apierrors.IsServerTimeout(err)).To(BeTrue(), "the last error stays inspectable")
	g.Expect(out).To(ContainSubstring("canary shop/podinfo"))
}

func TestLiveEndsAtOnceOnAnAnswerThatWillNotChange(t *testing.T) {
	gone := errors.New("no Canary or BlueGreen named podinfo in namespace shop")
	for _, err := range []error{
		gone,
		fmt.Errorf("get canary shop/podinfo: %w", apierrors.NewForbidden(schema.GroupResource{Resource: "canaries"}, "podinfo", nil)),
	} {
		t.Run(err.Error(), func(t *testing.T) {
			g := NewWithT(t)
			_, n, got := runLive(false, good(podinfo()), failing(err), good(podinfo()))
			g.Expect(got).To(MatchError(err))
			g.Expect(n).To(Equal(2))
		})
	}
}

func TestLiveEndsQuietlyWhenCtxEndsDuringAFailingPoll(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	err := live(ctx, &bytes.Buffer{}, &screen{view: board{}}, time.Millisecond, func() time.Time { return t0 },
		func(ctx context.Context) (snapshot, error) {
			cancel()
			return snapshot{}, fmt.Errorf("list canaries: %w", ctx.Err())
		})
	g.Expect(err).NotTo(HaveOccurred())
}

func TestRetryable(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://10.0.0.1:6443/apis", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	gr := schema.GroupResource{Group: "rollouts.sluice.dev", Resource: "canaries"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"retry when the server throttles (429)", errThrottled, true},
		{"retry when the server timed out", errTimedOut, true},
		{"retry when the server is unavailable (503)", apierrors.NewServiceUnavailable("etcd leader changed"), true},
		{"retry an internal error of the server (500)", apierrors.NewInternalError(errors.New("boom")), true},
		{"retry when the connection is refused", fmt.Errorf("list canaries: %w", refused), true},
		{"retry when the poll ran out of time", fmt.Errorf("list canaries: %w", context.DeadlineExceeded), true},
		{"retry when the connection dropped mid-answer", fmt.Errorf("list canaries: %w", io.ErrUnexpectedEOF), true},
		{"give up when forbidden (403)", apierrors.NewForbidden(gr, "", errors.New("rbac")), false},
		{"give up when the kind is unknown (404)", apierrors.NewNotFound(gr, ""), false},
		{"give up when the poll says the release is gone", errors.New("no Canary named podinfo in namespace shop"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(retryable(tc.err)).To(Equal(tc.want))
		})
	}
}

package cli_test

import (
	"context"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	eventsv1client "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/sluice-dev/sluice/internal/cli"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// newRecorder returns an event recorder writing to the test API server the
// way the operator's does (events.k8s.io/v1, through a broadcaster).
func newRecorder() events.EventRecorder {
	cs, err := eventsv1client.NewForConfig(env.Config)
	Expect(err).NotTo(HaveOccurred())
	b := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs})
	stop := make(chan struct{})
	b.StartRecordingToSink(stop)
	DeferCleanup(func() { close(stop); b.Shutdown() })
	return b.NewRecorder(env.Scheme, "sluice")
}

// emit records one event on obj as the operator does.
func emit(rec events.EventRecorder, obj client.Object, typ, reason, msg string) {
	release.Emit(rec, obj, []rollout.Event{{Type: typ, Reason: reason, Message: msg}})
}

// count is how many lines of s match the pattern.
func count(s, pattern string) int {
	return len(regexp.MustCompile(`(?m)`+pattern).FindAllString(s, -1))
}

var _ = Describe("watch", func() {
	It("logs each event of the shown releases once, and one line per change of a release's summary", func() {
		ns := newNamespace()
		cn := newCanary(ns, "podinfo", analysed)
		other := newCanary(ns, "other")
		rec := newRecorder()
		emit(rec, cn, rollout.EventNormal, rollout.EventNewRevision, "revision 6c4b8d2a1 is being released")
		emit(rec, other, rollout.EventNormal, rollout.EventNewRevision, "not shown: not in Names")

		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			done <- cli.Watch(wctx, out, k8s, cli.WatchOptions{Namespace: ns, Names: []string{"podinfo"},
				Interval: 50 * time.Millisecond, Header: func() string { return "scenario: release v2" }})
		}()
		event := `^\d\d:\d\d:\d\d Normal NewRevision canary ` + ns + `/podinfo: revision 6c4b8d2a1 is being released$`
		summary := `^\d\d:\d\d:\d\d canary ` + ns + `/podinfo `
		Eventually(func() int { return count(out.String(), event) }).Should(Equal(1))
		Eventually(func() int { return count(out.String(), summary+`Initializing step - weight 0%$`) }).Should(Equal(1))

		inFlight(cn)
		emit(rec, cn, rollout.EventNormal, rollout.EventStepAdvanced, "step 2 at weight 25")
		Eventually(func() int {
			return count(out.String(), summary+`Progressing step 3/3 weight 25% error-rate=0.0042 \(<= 0.01\) judge continue e=3/40$`)
		}).Should(Equal(1))
		Eventually(out.String).Should(ContainSubstring(" Normal StepAdvanced canary " + ns + "/podinfo: step 2 at weight 25\n"))

		Consistently(out.String, 500*time.Millisecond, 50*time.Millisecond).Should(Equal(out.String()),
			"ten polls with nothing new print nothing")
		cancel()
		Eventually(done).Should(Receive(BeNil()))
		s := out.String()
		Expect(count(s, event)).To(Equal(1), s)
		Expect(count(s, summary)).To(Equal(2), "one line for the first summary, one for the change:\n%s", s)
		Expect(count(s, `^\d\d:\d\d:\d\d scenario: release v2$`)).To(Equal(1), s)
		Expect(s).NotTo(ContainSubstring("other"))
		Expect(s).NotTo(ContainSubstring("\x1b"), "no terminal escapes in plain output")
	})

	It("shows the events of one release under `status --watch`, each once", func() {
		ns := newNamespace()
		cn := newCanary(ns, "podinfo", analysed)
		rec := newRecorder()
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			done <- cli.Status(wctx, out, k8s, cli.StatusOptions{Namespace: ns, Name: "podinfo", Watch: true,
				Interval: 50 * time.Millisecond})
		}()
		Eventually(out.String).Should(ContainSubstring("Canary " + ns + "/podinfo\n"))
		emit(rec, cn, rollout.EventWarning, rollout.EventRolledBack, "error-rate 0.07 above 0.01")
		line := `^\d\d:\d\d:\d\d Warning RolledBack canary ` + ns + `/podinfo: error-rate 0.07 above 0.01$`
		Eventually(func() int { return count(out.String(), line) }).Should(Equal(1))
		Consistently(func() int { return count(out.String(), line) }, 300*time.Millisecond, 50*time.Millisecond).Should(Equal(1))
		cancel()
		Eventually(done).Should(Receive(BeNil()))
		Expect(count(out.String(), `^--- `)).To(Equal(1), "an event alone does not re-print the summary")

		var once syncBuffer
		Expect(cli.Status(ctx, &once, k8s, cli.StatusOptions{Namespace: ns, Name: "podinfo"})).To(Succeed())
		Expect(once.String()).To(MatchRegexp(`(?m)^Events:\n  \d\d:\d\d:\d\d  Warning  RolledBack  error-rate 0.07 above 0.01\n\z`))
	})

	It("shows a release without its events, saying so, to a user who may not list them", func() {
		ns := newNamespace()
		newCanary(ns, "podinfo")
		direct, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
		Expect(err).NotTo(HaveOccurred())
		forbidden := interceptor.NewClient(direct, interceptor.Funcs{
			List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
				if _, ok := list.(*eventsv1.EventList); ok {
					return apierrors.NewForbidden(schema.GroupResource{Group: "events.k8s.io", Resource: "events"}, "", nil)
				}
				return c.List(ctx, list, opts...)
			},
		})
		var out syncBuffer
		Expect(cli.Status(ctx, &out, forbidden, cli.StatusOptions{Namespace: ns, Name: "podinfo"})).To(Succeed())
		Expect(out.String()).To(HaveSuffix("\nEvents: hidden (not allowed to list events.k8s.io Events)\n"))
	})

	It("runs as `kubectl sluice watch`, in the namespace of the flags", func() {
		ns := newNamespace()
		newCanary(ns, "podinfo")
		newCanary(newNamespace(), "elsewhere")
		out := &syncBuffer{}
		root := cli.NewRootCommand(cli.Env{
			Out:       out,
			Client:    func() (client.Client, error) { return k8s, nil },
			Namespace: func() (string, error) { return ns, nil },
		})
		root.SetArgs([]string{"watch", "--interval", "50ms"})
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- cli.Execute(wctx, root) }()
		Eventually(out.String).Should(MatchRegexp(`^\d\d:\d\d:\d\d canary ` + ns + `/podinfo Initializing step - weight 0%\n$`))
		cancel()
		Eventually(done).Should(Receive(BeNil()))
		Expect(out.String()).NotTo(ContainSubstring("elsewhere"))
	})
})

package cli_test

import (
	"bytes"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/cli"
)

// commandAnnotations are the annotations the plugin writes.
func commandAnnotations(obj client.Object) map[string]string {
	ExpectWithOffset(1, k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
	return obj.GetAnnotations()
}

const idPattern = `^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$`

var _ = Describe("commands", func() {
	DescribeTable("write exactly the command's own annotation with a fresh command ID and who gave it, and say what they did",
		func(kind cli.Kind, cmd v1alpha1.Command) {
			ns := newNamespace()
			var obj client.Object
			if kind == cli.KindCanary {
				obj = newCanary(ns, "podinfo", func(c *v1alpha1.Canary) { c.Annotations = map[string]string{"team": "shop"} })
			} else {
				obj = newBlueGreen(ns, "podinfo")
			}
			var out bytes.Buffer
			Expect(cli.SendCommand(ctx, &out, k8s, cmd, cli.CommandOptions{Namespace: ns, Name: "podinfo", Now: time.Now()})).To(Succeed())

			ann := commandAnnotations(obj)
			Expect(ann).To(HaveKeyWithValue(v1alpha1.CommandAnnotation(cmd), MatchRegexp(idPattern)))
			Expect(ann).To(HaveKeyWithValue(v1alpha1.CommandByAnnotation(cmd), Not(BeEmpty())),
				"who gave it, as the API server knows the client")
			if kind == cli.KindCanary {
				Expect(ann).To(HaveLen(3))
				Expect(ann).To(HaveKeyWithValue("team", "shop"), "the user's annotations stay")
			} else {
				Expect(ann).To(HaveLen(2))
			}
			Expect(out.String()).To(Equal(string(kind) + " " + ns + "/podinfo: " + string(cmd) +
				" requested (command-id " + ann[v1alpha1.CommandAnnotation(cmd)] + ")\n"))
		},
		Entry(nil, cli.KindCanary, v1alpha1.CommandPromote),
		Entry(nil, cli.KindCanary, v1alpha1.CommandPromoteFull),
		Entry(nil, cli.KindCanary, v1alpha1.CommandAbort),
		Entry(nil, cli.KindCanary, v1alpha1.CommandPause),
		Entry(nil, cli.KindCanary, v1alpha1.CommandResume),
		Entry(nil, cli.KindCanary, v1alpha1.CommandRetry),
		Entry(nil, cli.KindCanary, v1alpha1.CommandPromoteOverride),
		Entry(nil, cli.KindBlueGreen, v1alpha1.CommandPromote),
		Entry(nil, cli.KindBlueGreen, v1alpha1.CommandAbort),
	)

	It("writes a new command ID for the same command given twice", func() {
		ns := newNamespace()
		cn := newCanary(ns, "podinfo")
		o := cli.CommandOptions{Namespace: ns, Name: "podinfo", Now: time.Now()}
		Expect(cli.SendCommand(ctx, GinkgoWriter, k8s, v1alpha1.CommandPromote, o)).To(Succeed())
		first := commandAnnotations(cn)[v1alpha1.CommandAnnotation(v1alpha1.CommandPromote)]
		Expect(cli.SendCommand(ctx, GinkgoWriter, k8s, v1alpha1.CommandPromote, o)).To(Succeed())
		Expect(commandAnnotations(cn)[v1alpha1.CommandAnnotation(v1alpha1.CommandPromote)]).NotTo(Equal(first))
	})

	It("leaves a pending abort in place when another command follows it", func() {
		ns := newNamespace()
		cn := newCanary(ns, "podinfo")
		o := cli.CommandOptions{Namespace: ns, Name: "podinfo", Now: time.Now(), By: "jane"}
		Expect(cli.SendCommand(ctx, GinkgoWriter, k8s, v1alpha1.CommandAbort, o)).To(Succeed())
		abort := commandAnnotations(cn)[v1alpha1.CommandAnnotation(v1alpha1.CommandAbort)]
		o.By = "joe"
		Expect(cli.SendCommand(ctx, GinkgoWriter, k8s, v1alpha1.CommandPromote, o)).To(Succeed())
		ann := commandAnnotations(cn)
		Expect(ann).To(HaveKeyWithValue(v1alpha1.CommandAnnotation(v1alpha1.CommandAbort), abort))
		Expect(ann).To(HaveKeyWithValue(v1alpha1.CommandByAnnotation(v1alpha1.CommandAbort), "jane"))
		Expect(ann).To(HaveKeyWithValue(v1alpha1.CommandAnnotation(v1alpha1.CommandPromote), MatchRegexp(idPattern)))
		Expect(ann).To(HaveKeyWithValue(v1alpha1.CommandByAnnotation(v1alpha1.CommandPromote), "joe"))
	})

	It("fails naming the namespace and name when no release has that name", func() {
		ns := newNamespace()
		var out bytes.Buffer
		err := cli.SendCommand(ctx, &out, k8s, v1alpha1.CommandAbort, cli.CommandOptions{Namespace: ns, Name: "nope", Now: time.Now()})
		Expect(err).To(MatchError("no Canary or BlueGreen named nope in namespace " + ns))
		Expect(out.String()).To(BeEmpty())
		err = cli.Status(ctx, &out, k8s, cli.StatusOptions{Namespace: ns, Name: "nope"})
		Expect(err).To(MatchError("no Canary or BlueGreen named nope in namespace " + ns))
	})

	It("fails on the wrong kind, saying which kind the name is, and writes nothing", func() {
		ns := newNamespace()
		cn := newCanary(ns, "podinfo")
		err := cli.SendCommand(ctx, GinkgoWriter, k8s, v1alpha1.CommandAbort,
			cli.CommandOptions{Namespace: ns, Name: "podinfo", Kind: cli.KindBlueGreen, Now: time.Now()})
		Expect(err).To(MatchError("no BlueGreen named podinfo in namespace " + ns + " (it is a canary: drop --kind or use --kind canary)"))
		Expect(commandAnnotations(cn)).NotTo(HaveKey(v1alpha1.CommandAnnotation(v1alpha1.CommandAbort)))
	})

	It("asks for --kind when a Canary and a BlueGreen share the name, and obeys it", func() {
		ns := newNamespace()
		cn := newCanary(ns, "podinfo")
		bg := newBlueGreen(ns, "podinfo")
		o := cli.CommandOptions{Namespace: ns, Name: "podinfo", Now: time.Now()}
		err := cli.SendCommand(ctx, GinkgoWriter, k8s, v1alpha1.CommandPause, o)
		Expect(err).To(MatchError(ContainSubstring("choose one with --kind canary or --kind bluegreen")))

		o.Kind = cli.KindBlueGreen
		Expect(cli.SendCommand(ctx, GinkgoWriter, k8s, v1alpha1.CommandPause, o)).To(Succeed())
		Expect(commandAnnotations(bg)).To(HaveKey(v1alpha1.CommandAnnotation(v1alpha1.CommandPause)))
		Expect(commandAnnotations(cn)).NotTo(HaveKey(v1alpha1.CommandAnnotation(v1alpha1.CommandPause)))
	})

	It("times out waiting when no operator carries the command out", func() {
		ns := newNamespace()
		newCanary(ns, "podinfo")
		err := cli.SendCommand(ctx, GinkgoWriter, k8s, v1alpha1.CommandPause, cli.CommandOptions{
			Namespace: ns, Name: "podinfo", Now: time.Now(), Wait: 300 * time.Millisecond, PollInterval: 100 * time.Millisecond,
		})
		Expect(err).To(MatchError(ContainSubstring("wait for the operator to carry out pause on canary " + ns + "/podinfo")))
	})
})

package mesh

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	istioapi "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// stubReader serves one VirtualService, or an error, from memory: enough to
// drive the loop without an API server.
type stubReader struct {
	mu  sync.Mutex
	vs  *istioapi.VirtualService
	err error
}

func (r *stubReader) set(vs *istioapi.VirtualService, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vs, r.err = vs, err
}

func (r *stubReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	vs := obj.(*networkingv1.VirtualService)
	vs.Namespace, vs.Name = key.Namespace, key.Name
	vs.Spec.Http = r.vs.Http
	return nil
}

func (r *stubReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("not served")
}

// startStubbed starts an emulator on a stub reader holding vs.
func startStubbed(t *testing.T, vs *istioapi.VirtualService) (*Mesh, *stubReader) {
	t.Helper()
	reader := &stubReader{vs: vs}
	m, err := Start(context.Background(), Options{
		Client: reader, Namespace: "shop", VirtualService: "podinfo", Rate: 500, Tick: 20 * time.Millisecond,
		Hosts: CanaryHosts("podinfo"), Default: "podinfo", Refresh: 20 * time.Millisecond,
		StandIns: map[string]Behaviour{"podinfo-primary": {}, "podinfo": {}},
	})
	if err != nil {
		t.Fatalf("start the mesh emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Errorf("stop the mesh emulator: %v", err)
		}
	})
	return m, reader
}

func TestAFailedReadKeepsTheSplitLastRead(t *testing.T) {
	g := NewWithT(t)
	m, reader := startStubbed(t, &istioapi.VirtualService{Http: []*istioapi.HTTPRoute{
		istioRoute("sluice", "podinfo-primary", 0, "podinfo-canary", 100),
	}})
	g.Eventually(func() int64 { return m.Sent("podinfo") }).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeNumerically(">", 0))

	reader.set(nil, errors.New("the API server is away"))
	g.Eventually(m.ReadError).WithTimeout(deadline.Scale(5 * time.Second)).Should(MatchError(ContainSubstring("is away")))
	got := during(m, 300*time.Millisecond)
	g.Expect(got.primary).To(BeZero(), "traffic does not fall back to the default")
	g.Expect(got.canary).To(BeNumerically(">", 0))

	reader.set(&istioapi.VirtualService{Http: []*istioapi.HTTPRoute{
		istioRoute("sluice", "podinfo-primary", 100, "podinfo-canary", 0),
	}}, nil)
	g.Eventually(func() int64 { return during(m, 200*time.Millisecond).canary }).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeZero())
	g.Expect(m.ReadError()).NotTo(HaveOccurred())
}

func TestTheShareOfAHostNoStandInServesIsUnrouted(t *testing.T) {
	g := NewWithT(t)
	m, _ := startStubbed(t, &istioapi.VirtualService{Http: []*istioapi.HTTPRoute{
		istioRoute("sluice", "podinfo-primary", 50, "api.example.com", 50),
	}})
	g.Eventually(m.Unrouted).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeNumerically(">=", 100))
	g.Expect(m.Stop()).To(Succeed())
	g.Expect(m.Unrouted()).To(BeNumerically("~", m.Sent("podinfo-primary"), 1))
	g.Expect(m.Sent("podinfo")).To(BeZero())
}

func TestABehaviourSetWhileRunningAppliesToTheNextRequests(t *testing.T) {
	g := NewWithT(t)
	m, _ := startStubbed(t, &istioapi.VirtualService{})

	g.Expect(m.SetBehaviour("podinfo", Behaviour{ErrorFraction: 1, Latency: time.Second})).To(Succeed())
	g.Expect(m.standIns["podinfo"].draw("")).To(Equal(outcome{code: http.StatusInternalServerError, latency: time.Second}))
	g.Expect(m.SetBehaviour("podinfo", Behaviour{Jitter: -1})).To(MatchError(ContainSubstring("negative")))
	g.Expect(m.SetBehaviour("other", Behaviour{})).To(MatchError(ContainSubstring("no stand-in")))
	g.Expect(m.SetRate(-1)).To(HaveOccurred())
	g.Expect(m.SetRate(0)).To(Succeed())
	g.Expect(m.Rate()).To(BeZero())
}

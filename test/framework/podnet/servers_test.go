package podnet

import (
	"io"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"github.com/sluice-dev/sluice/test/framework/mesh"
)

func TestServers(t *testing.T) {
	g := NewWithT(t)
	n := &Net{
		opts:    Options{Linger: 5 * time.Second, Seed: 1, Images: map[string]mesh.Behaviour{"v2": {ErrorFraction: 1}}},
		servers: map[string]*server{}, answered: map[string]int64{}, failed: map[string]int64{},
	}
	defer func() { g.Expect(n.closeServers()).To(Succeed()) }()
	p := pod("a", "127.244.99.7", true, nil)
	p.Spec.Containers[0].Ports[0].ContainerPort = 19898
	t0 := time.Now()
	g.Expect(n.syncServers([]*corev1.Pod{p}, t0)).To(Succeed())

	resp, err := http.Get("http://127.244.99.7:19898/")
	g.Expect(err).NotTo(HaveOccurred())
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusInternalServerError), "image v2 answers 500")
	g.Expect(resp.Header.Get(HeaderImage)).To(Equal("v2"))
	g.Expect(resp.Header.Get(HeaderPod)).To(Equal("a"))
	total, failed := n.Answered("v2")
	g.Expect([]int64{total, failed}).To(Equal([]int64{1, 1}))

	g.Expect(n.syncServers(nil, t0.Add(time.Second))).To(Succeed())
	g.Expect(n.servers).To(HaveLen(1), "a gone pod's server lingers, as a pod drains")
	g.Expect(n.syncServers(nil, t0.Add(7*time.Second))).To(Succeed())
	g.Expect(n.servers).To(BeEmpty(), "and closes after Linger")
	resp, err = http.Get("http://127.244.99.7:19898/")
	if err == nil {
		_ = resp.Body.Close()
	}
	g.Expect(err).To(HaveOccurred(), "nothing answers at the address any more")
}

package cluster

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

func TestOptions(t *testing.T) {
	t.Run("a given Dir is kept, and the subdirectories an earlier cluster left there are emptied", func(t *testing.T) {
		g := NewWithT(t)
		dir := t.TempDir()
		stale := filepath.Join(dir, "etcd", "member", "snap", "db")
		g.Expect(os.MkdirAll(filepath.Dir(stale), 0o700)).To(Succeed())
		g.Expect(os.WriteFile(stale, []byte("old"), 0o600)).To(Succeed())
		mine := filepath.Join(dir, "notes.txt")
		g.Expect(os.WriteFile(mine, []byte("mine"), 0o600)).To(Succeed())

		c, err := newCluster(Options{Dir: dir})

		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(c.Dir()).To(Equal(dir))
		g.Expect(c.tempDir).To(BeFalse())
		g.Expect(c.KubeconfigPath()).To(Equal(filepath.Join(dir, "kubeconfig")))
		g.Expect(stale).NotTo(BeAnExistingFile())
		g.Expect(mine).To(BeAnExistingFile())
		for _, sub := range []string{"etcd", "pki", "logs"} {
			g.Expect(filepath.Join(dir, sub)).To(BeADirectory())
		}
	})
	t.Run("a given Kubeconfig is used as is", func(t *testing.T) {
		g := NewWithT(t)
		path := filepath.Join(t.TempDir(), "sandbox.kubeconfig")
		c, err := newCluster(Options{Dir: t.TempDir(), Kubeconfig: path})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(c.KubeconfigPath()).To(Equal(path))
	})
	t.Run("zero nodes means one", func(t *testing.T) {
		g := NewWithT(t)
		c, err := newCluster(Options{Dir: t.TempDir()})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(c.Nodes()).To(Equal([]string{"kwok-node-0"}))
	})
	t.Run("nodes are named in order", func(t *testing.T) {
		g := NewWithT(t)
		c, err := newCluster(Options{Dir: t.TempDir(), Nodes: 3})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(c.Nodes()).To(Equal([]string{"kwok-node-0", "kwok-node-1", "kwok-node-2"}))
	})
	t.Run("a negative number of nodes is refused, and no temporary directory is left", func(t *testing.T) {
		g := NewWithT(t)
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		_, err := newCluster(Options{Nodes: -1})
		g.Expect(err).To(MatchError(ContainSubstring("-1 nodes")))
		g.Expect(os.ReadDir(tmp)).To(BeEmpty())
	})
	t.Run("pods get addresses from 10.244.0.0/16 unless a range is given", func(t *testing.T) {
		g := NewWithT(t)
		c, err := newCluster(Options{Dir: t.TempDir()})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(c.PodCIDR()).To(Equal("10.244.0.0/16"))
		g.Expect(c.LoopbackPods()).To(BeFalse())
		c, err = newCluster(Options{Dir: t.TempDir(), PodCIDR: LoopbackPodCIDR})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(c.PodCIDR()).To(Equal(LoopbackPodCIDR))
		g.Expect(c.LoopbackPods()).To(BeTrue())
	})
	t.Run("a pod range that is not an IPv4 CIDR is refused", func(t *testing.T) {
		g := NewWithT(t)
		for _, cidr := range []string{"127.0.0.1", "fd00::/64", "loopback"} {
			_, err := newCluster(Options{Dir: t.TempDir(), PodCIDR: cidr})
			g.Expect(err).To(MatchError(ContainSubstring("pod CIDR")), cidr)
		}
	})
}

package gateway_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/cluster"
	"github.com/sluice-dev/sluice/test/framework/mesh"
	"github.com/sluice-dev/sluice/test/framework/podnet"
	"github.com/sluice-dev/sluice/test/framework/promserver"
	"github.com/sluice-dev/sluice/test/framework/traefik"
)

// namespace holds the app.
const namespace = "shop"

// images say how each version's pods answer.
var images = map[string]mesh.Behaviour{
	"v1":     {Latency: 2 * time.Millisecond, Jitter: 4 * time.Millisecond},
	"v2":     {Latency: 2 * time.Millisecond, Jitter: 4 * time.Millisecond},
	"v3-bad": {ErrorFraction: 0.3, Latency: 2 * time.Millisecond, Jitter: 4 * time.Millisecond},
	"v4-bad": {ErrorFraction: 0.3, Latency: 2 * time.Millisecond, Jitter: 4 * time.Millisecond},
}

// world is everything the suite started.
type world struct {
	cluster *cluster.Cluster
	client  client.Client
	config  *rest.Config
	traefik *traefik.Traefik
	prom    *promserver.Server
	pods    *podnet.Net
}

// start brings up the control plane with loopback pods, Traefik, the pods'
// network, Prometheus scraping Traefik, the traefik preset and Sluice.
func start(t *testing.T) *world {
	t.Helper()
	g := NewWithT(t)
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sluiceCRDs, err := cluster.SluiceCRDs()
	g.Expect(err).NotTo(HaveOccurred())
	gatewayCRDs, err := cluster.GatewayAPICRDs()
	g.Expect(err).NotTo(HaveOccurred())
	w := &world{}
	w.cluster, err = cluster.Start(ctx, cluster.Options{
		CRDs: append([]string{sluiceCRDs}, gatewayCRDs...), PodCIDR: cluster.RandomLoopbackPodCIDR(), Log: testLog{t},
	})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(w.cluster.Stop()).To(Succeed()) })
	w.config = rest.CopyConfig(w.cluster.Config())
	w.config.QPS, w.config.Burst = 200, 400
	w.client, err = client.New(w.config, client.Options{Scheme: apiserver.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())

	w.traefik, err = traefik.Start(ctx, w.cluster, traefik.Options{Log: testLog{t}})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(w.traefik.Stop()).To(Succeed()) })
	g.Expect(w.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})).To(Succeed())
	w.pods, err = podnet.Start(context.Background(), w.config, podnet.Options{Namespace: namespace, Images: images})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(w.pods.Stop()).To(Succeed()) })
	w.prom, err = promserver.Run(context.Background(), promserver.Options{Targets: []string{w.traefik.MetricsAddr()}, ScrapeInterval: time.Second})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(w.prom.Stop()).To(Succeed()) })

	root, err := apiserver.RepoRoot()
	g.Expect(err).NotTo(HaveOccurred())
	data, err := os.ReadFile(filepath.Join(root, "config", "presets", "traefik.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	preset := &v1alpha1.ClusterAnalysisTemplate{}
	g.Expect(yaml.UnmarshalStrict(data, preset)).To(Succeed())
	g.Expect(w.client.Create(ctx, preset)).To(Succeed())

	stop, err := apiserver.StartOperator(context.Background(), w.config)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(stop()).To(Succeed()) })
	g.Eventually(func() error {
		return w.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "default"}, &corev1.ServiceAccount{})
	}).WithTimeout(30 * time.Second).Should(Succeed())
	return w
}

// deployment is the user's app at an image tag, two replicas.
func deployment(name, tag string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "example.test/" + name + ":" + tag,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
	}
}

// testLog writes progress lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Where the stand-in for metrics-server is registered in the cluster.
const (
	metricsNamespace    = "kube-system"
	metricsService      = "sluice-metrics"
	metricsAPIService   = "v1beta1.metrics.k8s.io"
	metricsGroupVersion = "metrics.k8s.io/v1beta1"
	// metricsWindow is the window each sample says it covers. The HPA
	// controller ignores a pod's CPU sample taken less than one window
	// after the pod became ready.
	metricsWindow = time.Second
)

// PodUsage says what the resource metrics API reports for the pods one
// query matched (the pods of one namespace that are Running and match the
// query's label selector): each pod's usage, in the order given, for
// example {cpu: 120m}. A pod given no usage is reported with none, which the
// HPA controller counts as a missing metric.
type PodUsage func(namespace string, pods []corev1.Pod) []corev1.ResourceList

// MetricsAPI is a stand-in for metrics-server served by the test process:
// the resource metrics API (metrics.k8s.io/v1beta1, pods), registered as an
// APIService that the API server aggregates, so that the HPA controller of
// kube-controller-manager reads pod metrics through the API server as in a
// cluster. The usage it reports comes from a PodUsage function instead of
// kubelets (kwok's pods run nothing). It answers only the API server: the
// client certificate of the front proxy, with the user in X-Remote-User.
type MetricsAPI struct {
	clientset kubernetes.Interface
	usage     PodUsage
	listener  net.Listener
	server    *http.Server
	served    chan error
	queries   atomic.Int64
}

// ServeMetrics starts the stand-in on a loopback port and registers it: an
// ExternalName Service kube-system/sluice-metrics naming localhost, and the
// APIService v1beta1.metrics.k8s.io with the CA of its serving certificate.
// It returns once the API server serves the group through it. Close stops
// it.
func (c *Cluster) ServeMetrics(ctx context.Context, usage PodUsage) (*MetricsAPI, error) {
	serving, caPEM, err := metricsServingCert()
	if err != nil {
		return nil, err
	}
	clients := x509.NewCertPool()
	if !clients.AppendCertsFromPEM(c.creds.frontProxyCACert) {
		return nil, errors.New("metrics API: no front proxy CA")
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serving}, ClientCAs: clients,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		return nil, fmt.Errorf("metrics API: listen: %w", err)
	}
	m := &MetricsAPI{clientset: c.clientset, usage: usage, listener: l, served: make(chan error, 1)}
	m.server = &http.Server{Handler: m, ReadHeaderTimeout: 5 * time.Second}
	go func() { m.served <- m.server.Serve(l) }()
	if err := m.register(ctx, caPEM); err != nil {
		return nil, errors.Join(err, m.Close())
	}
	err = c.waitFor(ctx, "the API server to serve "+metricsGroupVersion, func(ctx context.Context) (bool, error) {
		_, err := c.clientset.Discovery().RESTClient().Get().AbsPath("/apis/" + metricsGroupVersion).DoRaw(ctx)
		return err == nil, err
	})
	if err != nil {
		return nil, errors.Join(err, m.Close())
	}
	c.logf("metrics API stand-in serving %s at %s", metricsGroupVersion, l.Addr())
	return m, nil
}

// metricsServingCert issues the stand-in's serving certificate for the
// name the API server expects (<service>.<namespace>.svc), from a CA of its
// own, returned PEM-encoded for the APIService's caBundle.
func metricsServingCert() (tls.Certificate, []byte, error) {
	ca, caKey, err := newCA()
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM, keyPEM, err := issue(ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: metricsService},
		DNSNames:    []string{metricsService + "." + metricsNamespace + ".svc", "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("metrics API: issue the serving certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("metrics API: load the serving certificate: %w", err)
	}
	return cert, encodeCert(ca), nil
}

// register creates the Service and the APIService that send the group's
// requests to the stand-in.
func (m *MetricsAPI) register(ctx context.Context, caPEM []byte) error {
	port := int32(m.listener.Addr().(*net.TCPAddr).Port)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: metricsService, Namespace: metricsNamespace},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost",
			Ports: []corev1.ServicePort{{Name: "https", Port: port, Protocol: corev1.ProtocolTCP}}},
	}
	if _, err := m.clientset.CoreV1().Services(metricsNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("metrics API: create Service %s/%s: %w", metricsNamespace, metricsService, err)
	}
	body, err := json.Marshal(map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": metricsAPIService},
		"spec": map[string]any{
			"group": "metrics.k8s.io", "version": "v1beta1",
			"service":  map[string]any{"namespace": metricsNamespace, "name": metricsService, "port": port},
			"caBundle": base64.StdEncoding.EncodeToString(caPEM), "groupPriorityMinimum": 100, "versionPriority": 100,
		},
	})
	if err != nil {
		return fmt.Errorf("metrics API: encode the APIService: %w", err)
	}
	err = m.clientset.Discovery().RESTClient().Post().AbsPath("/apis/apiregistration.k8s.io/v1/apiservices").
		SetHeader("Content-Type", "application/json").Body(body).Do(ctx).Error()
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("metrics API: create APIService %s: %w", metricsAPIService, err)
	}
	return nil
}

// Queries is the number of pod metrics queries answered.
func (m *MetricsAPI) Queries() int64 {
	return m.queries.Load()
}

// Close stops serving. The APIService stays, reported unavailable by the
// API server, as when metrics-server is down.
func (m *MetricsAPI) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := m.server.Shutdown(ctx)
	if served := <-m.served; !errors.Is(served, http.ErrServerClosed) {
		err = errors.Join(err, served)
	}
	return err
}

// ServeHTTP answers the API server's proxied requests: the group version's
// resource list and the pod metrics of one namespace.
func (m *MetricsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != FrontProxyUser ||
		r.Header.Get("X-Remote-User") == "" {
		http.Error(w, "only the API server's front proxy may ask, on behalf of a user", http.StatusUnauthorized)
		return
	}
	base := "/apis/" + metricsGroupVersion
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, base), "/"), "/")
	switch {
	case r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, base):
		http.NotFound(w, r) // /apis too: the API server falls back to this version's resource list
	case r.URL.Path == base || r.URL.Path == base+"/":
		writeJSON(w, resourceList())
	case len(parts) == 3 && parts[0] == "namespaces" && parts[2] == "pods":
		m.servePods(w, r, parts[1], "")
	case len(parts) == 4 && parts[0] == "namespaces" && parts[2] == "pods":
		m.servePods(w, r, parts[1], parts[3])
	default:
		http.NotFound(w, r)
	}
}

// servePods answers a list of the namespace's pod metrics (the query's
// labelSelector applies), or one pod's when name is set.
func (m *MetricsAPI) servePods(w http.ResponseWriter, r *http.Request, namespace, name string) {
	m.queries.Add(1)
	opts := metav1.ListOptions{LabelSelector: r.URL.Query().Get("labelSelector")}
	if name != "" {
		opts = metav1.ListOptions{FieldSelector: "metadata.name=" + name}
	}
	list, err := m.clientset.CoreV1().Pods(namespace).List(r.Context(), opts)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var running []corev1.Pod
	for _, p := range list.Items {
		if p.Status.Phase == corev1.PodRunning {
			running = append(running, p)
		}
	}
	items := m.podMetrics(namespace, running)
	if name == "" {
		writeJSON(w, podMetricsList{TypeMeta: metav1.TypeMeta{APIVersion: metricsGroupVersion, Kind: "PodMetricsList"},
			Items: items})
		return
	}
	if len(items) == 0 {
		http.Error(w, fmt.Sprintf("pod %s/%s has no metrics", namespace, name), http.StatusNotFound)
		return
	}
	writeJSON(w, items[0])
}

// podMetrics reports each pod's usage, on its first container (every other
// container reports zero of the same resources).
func (m *MetricsAPI) podMetrics(namespace string, pods []corev1.Pod) []podMetrics {
	usage := m.usage(namespace, pods)
	now := metav1.Now()
	out := make([]podMetrics, 0, len(pods))
	for i, p := range pods {
		pm := podMetrics{
			TypeMeta:   metav1.TypeMeta{APIVersion: metricsGroupVersion, Kind: "PodMetrics"},
			ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels},
			Timestamp:  now, Window: metav1.Duration{Duration: metricsWindow},
		}
		for j, c := range p.Spec.Containers {
			u := corev1.ResourceList{}
			if i < len(usage) {
				for res, q := range usage[i] {
					if j == 0 {
						u[res] = q
					} else {
						u[res] = resource.Quantity{Format: q.Format}
					}
				}
			}
			pm.Containers = append(pm.Containers, containerMetrics{Name: c.Name, Usage: u})
		}
		out = append(out, pm)
	}
	return out
}

// resourceList is the group version's discovery document.
func resourceList() *metav1.APIResourceList {
	return &metav1.APIResourceList{
		TypeMeta:     metav1.TypeMeta{APIVersion: "v1", Kind: "APIResourceList"},
		GroupVersion: metricsGroupVersion,
		APIResources: []metav1.APIResource{
			{Name: "pods", SingularName: "", Namespaced: true, Kind: "PodMetrics", Verbs: []string{"get", "list"}},
		},
	}
}

// The wire format of metrics.k8s.io/v1beta1 (k8s.io/metrics), the fields
// the HPA controller reads.
type (
	podMetrics struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata"`
		Timestamp         metav1.Time        `json:"timestamp"`
		Window            metav1.Duration    `json:"window"`
		Containers        []containerMetrics `json:"containers"`
	}
	containerMetrics struct {
		Name  string              `json:"name"`
		Usage corev1.ResourceList `json:"usage"`
	}
	podMetricsList struct {
		metav1.TypeMeta `json:",inline"`
		metav1.ListMeta `json:"metadata"`
		Items           []podMetrics `json:"items"`
	}
)

// writeJSON writes v as the answer.
func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

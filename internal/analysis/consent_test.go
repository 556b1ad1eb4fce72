package analysis

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestSecretCredentialsNeedTheSecretsConsent(t *testing.T) {
	consenting := map[string]string{LabelProviderCredentials: "true"}
	basic := map[string][]byte{"username": []byte("u"), "password": []byte("p")}
	for _, tc := range []struct {
		name   string
		secret *corev1.Secret
		refuse string // "" when the credentials are read
	}{
		{"a ServiceAccount token Secret is refused", &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "default-token"}, Type: corev1.SecretTypeServiceAccountToken,
			Data: map[string][]byte{"token": []byte("eyJ...")}}, "is a ServiceAccount token"},
		{"a ServiceAccount token Secret is refused even when labelled", &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "default-token", Labels: consenting},
			Type:       corev1.SecretTypeServiceAccountToken, Data: map[string][]byte{"token": []byte("eyJ...")}},
			"is a ServiceAccount token"},
		{"an unlabelled basic-auth Secret is refused", &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "db"}, Type: corev1.SecretTypeBasicAuth, Data: basic},
			"kubectl label secret db rollouts.sluice.dev/provider-credentials=true"},
		{"a Secret labelled anything but true is refused", &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Labels: map[string]string{LabelProviderCredentials: "yes"}},
			Data:       basic}, "is not labelled"},
		{"a labelled Secret is read", &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "prom", Labels: consenting}, Type: corev1.SecretTypeBasicAuth, Data: basic}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			tc.secret.Namespace = "shop"
			c := fake.NewClientBuilder().WithObjects(tc.secret).Build()
			decoded := false
			read := SecretCredentials(c, func(s *corev1.Secret) (Credentials, error) {
				decoded = true
				return Credentials{Username: string(s.Data["username"]), Password: string(s.Data["password"])}, nil
			})

			creds, err := read(context.Background(), "shop", &corev1.LocalObjectReference{Name: tc.secret.Name})

			if tc.refuse == "" {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(creds.Username).To(Equal("u"))
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.refuse)))
			g.Expect(decoded).To(BeFalse(), "a refused Secret is not even decoded")
			g.Expect(err.Error()).NotTo(ContainSubstring("eyJ"), "no secret content in the message")
		})
	}
}

// A refused Secret holds the check with a message in status: a provider
// error, never a failed check (which could roll a release back).
func TestARefusedSecretIsAProviderErrorInTheCheck(t *testing.T) {
	g := NewWithT(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "default-token", Namespace: "shop"},
		Type: corev1.SecretTypeServiceAccountToken, Data: map[string][]byte{"token": []byte("eyJ...")}}
	built := false
	r := &Runner{
		Providers: Registry{v1alpha1.ProviderPrometheus: func(v1alpha1.MetricProvider, Credentials) (Provider, error) {
			built = true
			return nil, nil
		}},
		Credentials: SecretCredentials(fake.NewClientBuilder().WithObjects(secret).Build(),
			func(*corev1.Secret) (Credentials, error) { return Credentials{BearerToken: "eyJ..."}, nil }),
	}
	a := &v1alpha1.Analysis{
		Provider: &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: "https://prom.example:9090",
			SecretRef: &corev1.LocalObjectReference{Name: "default-token"}},
		Metrics: []v1alpha1.Metric{{Name: "error-rate", Query: "q", ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.01)}}},
	}

	out := r.Run(context.Background(), a, Workloads{Namespace: "shop", Name: "podinfo", Canary: "podinfo"}, nil, time.Now())

	g.Expect(built).To(BeFalse(), "no provider is built with a refused Secret")
	g.Expect(out.Results).To(ConsistOf(And(
		HaveField("Outcome", v1alpha1.OutcomeError),
		HaveField("Message", ContainSubstring("read credentials from Secret shop/default-token: it is a ServiceAccount token")),
	)))
}

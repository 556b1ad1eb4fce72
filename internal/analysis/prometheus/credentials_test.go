package prometheus

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/internal/analysis"
)

// selfSignedPair makes a PEM certificate and key for a client named cn,
// valid for an hour.
func selfSignedPair(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// certPool trusts the PEM certificate certPEM.
func certPool(t *testing.T, certPEM []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("append certificate to pool")
	}
	return pool
}

func TestCredentialsFromSecret(t *testing.T) {
	cert, key := selfSignedPair(t, "sluice")
	tests := []struct {
		name    string
		data    map[string][]byte
		want    analysis.Credentials
		wantErr string
	}{
		{name: "an empty Secret means no credentials", data: nil},
		{name: "read basic authentication",
			data: map[string][]byte{"username": []byte("u"), "password": []byte("p")},
			want: analysis.Credentials{Username: "u", Password: "p"}},
		{name: "read a bearer token", data: map[string][]byte{"token": []byte("t")},
			want: analysis.Credentials{BearerToken: "t"}},
		{name: "read a CA and a client certificate",
			data: map[string][]byte{"ca.crt": cert, "tls.crt": cert, "tls.key": key},
			want: analysis.Credentials{CA: cert, ClientCert: cert, ClientKey: key}},
		{name: "treat an empty key as absent", data: map[string][]byte{"token": []byte("t"), "username": {}},
			want: analysis.Credentials{BearerToken: "t"}},
		{name: "refuse a username without a password", data: map[string][]byte{"username": []byte("u")},
			wantErr: `secret shop/prom: "username" is set but "password" is missing`},
		{name: "refuse a password without a username", data: map[string][]byte{"password": []byte("p")},
			wantErr: `"password" is set but "username" is missing`},
		{name: "refuse basic and bearer authentication together",
			data:    map[string][]byte{"username": []byte("u"), "password": []byte("p"), "token": []byte("t")},
			wantErr: "not both"},
		{name: "refuse a client certificate without its key", data: map[string][]byte{"tls.crt": cert},
			wantErr: `"tls.crt" is set but "tls.key" is missing`},
		{name: "refuse a client key without its certificate", data: map[string][]byte{"tls.key": key},
			wantErr: `"tls.key" is set but "tls.crt" is missing`},
		{name: "refuse a client certificate that does not match its key",
			data:    map[string][]byte{"tls.crt": cert, "tls.key": []byte("garbage")},
			wantErr: "load client certificate"},
		{name: "refuse a CA that is not PEM", data: map[string][]byte{"ca.crt": []byte("garbage")},
			wantErr: `"ca.crt" holds no PEM certificate`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "prom"}, Data: tt.data}

			got, err := CredentialsFromSecret(secret)

			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestCredentialsFromANilSecretIsAnError(t *testing.T) {
	g := NewWithT(t)
	_, err := CredentialsFromSecret(nil)
	g.Expect(err).To(HaveOccurred())
}

package prometheus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"

	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/outbound"
)

// Keys of a provider's credentials Secret.
const (
	SecretKeyUsername   = "username"
	SecretKeyPassword   = "password"
	SecretKeyToken      = "token"
	SecretKeyCA         = "ca.crt"
	SecretKeyClientCert = "tls.crt"
	SecretKeyClientKey  = "tls.key"
)

// CredentialsFromSecret reads a provider's credentials from secret: username
// and password (basic authentication) or token (bearer), and optionally
// ca.crt, tls.crt and tls.key. An empty key counts as absent. A half-filled
// pair, both kinds of authentication, or a certificate that does not parse is
// an error naming the Secret and the key to fix.
func CredentialsFromSecret(secret *corev1.Secret) (analysis.Credentials, error) {
	if secret == nil {
		return analysis.Credentials{}, errors.New("no credentials Secret")
	}
	data := secret.Data
	creds := analysis.Credentials{
		Username:    string(data[SecretKeyUsername]),
		Password:    string(data[SecretKeyPassword]),
		BearerToken: string(data[SecretKeyToken]),
		CA:          data[SecretKeyCA],
		ClientCert:  data[SecretKeyClientCert],
		ClientKey:   data[SecretKeyClientKey],
	}
	if err := validateAuth(creds); err != nil {
		return analysis.Credentials{}, fmt.Errorf("secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	if _, err := tlsConfig(creds, false); err != nil {
		return analysis.Credentials{}, fmt.Errorf("secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	return creds, nil
}

// validateAuth checks that creds ask for one coherent kind of authentication.
func validateAuth(creds analysis.Credentials) error {
	switch {
	case creds.Username != "" && creds.Password == "":
		return fmt.Errorf("%q is set but %q is missing", SecretKeyUsername, SecretKeyPassword)
	case creds.Password != "" && creds.Username == "":
		return fmt.Errorf("%q is set but %q is missing", SecretKeyPassword, SecretKeyUsername)
	case creds.Username != "" && creds.BearerToken != "":
		return fmt.Errorf("set either %q and %q (basic authentication) or %q (bearer), not both",
			SecretKeyUsername, SecretKeyPassword, SecretKeyToken)
	}
	return nil
}

// newTransport builds the HTTP transport of a provider: the outbound
// policy's (which dials only where the policy allows and follows no
// redirect, so credentials never travel past the address in the spec) with
// creds' TLS settings, and creds' authentication on top.
func newTransport(creds analysis.Credentials, insecureSkipVerify bool, policy outbound.Policy) (http.RoundTripper, error) {
	if err := validateAuth(creds); err != nil {
		return nil, err
	}
	cfg, err := tlsConfig(creds, insecureSkipVerify)
	if err != nil {
		return nil, err
	}
	transport := policy.Transport(cfg)
	if creds.Username == "" && creds.BearerToken == "" {
		return transport, nil
	}
	return &authRoundTripper{creds: creds, next: transport}, nil
}

// tlsConfig builds the client TLS configuration creds and the spec ask for.
func tlsConfig(creds analysis.Credentials, insecureSkipVerify bool) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The user opts in through the spec, for testing.
		InsecureSkipVerify: insecureSkipVerify, //nolint:gosec // documented opt-in in the API
	}
	if len(creds.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(creds.CA) {
			return nil, fmt.Errorf("%q holds no PEM certificate", SecretKeyCA)
		}
		cfg.RootCAs = pool
	}
	switch {
	case len(creds.ClientCert) > 0 && len(creds.ClientKey) == 0:
		return nil, fmt.Errorf("%q is set but %q is missing", SecretKeyClientCert, SecretKeyClientKey)
	case len(creds.ClientKey) > 0 && len(creds.ClientCert) == 0:
		return nil, fmt.Errorf("%q is set but %q is missing", SecretKeyClientKey, SecretKeyClientCert)
	case len(creds.ClientCert) > 0:
		pair, err := tls.X509KeyPair(creds.ClientCert, creds.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("load client certificate from %q and %q: %w", SecretKeyClientCert, SecretKeyClientKey, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

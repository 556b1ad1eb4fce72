package cluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// AdminUser is the user of the kubeconfig Start writes, a member of
// system:masters.
const AdminUser = "sluice-admin"

// contextName names the cluster, the user's context and the current context
// in the kubeconfig.
const contextName = "sluice"

// certValidity is how long the certificates last: long enough for a sandbox
// left running.
const certValidity = 365 * 24 * time.Hour

// FrontProxyUser is the common name of the client certificate the API
// server presents to the API servers it aggregates (the front proxy's
// requestheader identity, as kubeadm names it).
const FrontProxyUser = "front-proxy-client"

// credentials are a cluster's certificates and keys, PEM-encoded. One CA signs
// the API server's serving certificate and the administrator's client
// certificate; a separate key signs service account tokens; a second CA,
// the front proxy's, signs the client certificate with which the API server
// proxies requests to aggregated API servers.
type credentials struct {
	caCert                  []byte
	servingCert, servingKey []byte
	adminCert, adminKey     []byte
	saKey, saPublicKey      []byte
	frontProxyCACert        []byte
	proxyCert, proxyKey     []byte
}

// newCredentials creates the credentials of a cluster whose API server
// listens on 127.0.0.1 and has serviceIP as the in-cluster `kubernetes`
// Service address.
func newCredentials(serviceIP net.IP) (*credentials, error) {
	ca, caKey, err := newCA()
	if err != nil {
		return nil, err
	}
	c := &credentials{caCert: encodeCert(ca)}
	c.servingCert, c.servingKey, err = issue(ca, caKey, &x509.Certificate{
		Subject: pkix.Name{CommonName: "kube-apiserver"},
		DNSNames: []string{
			"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local",
		},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), serviceIP},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("issue the API server's certificate: %w", err)
	}
	c.adminCert, c.adminKey, err = issue(ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: AdminUser, Organization: []string{"system:masters"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("issue the administrator's certificate: %w", err)
	}
	if err := c.addFrontProxy(); err != nil {
		return nil, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate the service account signing key: %w", err)
	}
	if c.saKey, err = encodeKey(saKey); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode the service account public key: %w", err)
	}
	c.saPublicKey = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return c, nil
}

// addFrontProxy creates the front proxy's CA and the client certificate it
// signs for the API server, named FrontProxyUser.
func (c *credentials) addFrontProxy() error {
	ca, caKey, err := newCA()
	if err != nil {
		return err
	}
	c.frontProxyCACert = encodeCert(ca)
	c.proxyCert, c.proxyKey, err = issue(ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: FrontProxyUser},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("issue the front proxy's client certificate: %w", err)
	}
	return nil
}

// newCA creates a self-signed certificate authority.
func newCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate the CA key: %w", err)
	}
	tmpl, err := template(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "sluice-local-ca"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	})
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create the CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse the CA certificate: %w", err)
	}
	return ca, key, nil
}

// issue creates a key and a certificate for it from tmpl, signed by the CA.
func issue(ca *x509.Certificate, caKey crypto.Signer, tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate a key: %w", err)
	}
	if tmpl, err = template(tmpl); err != nil {
		return nil, nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("create the certificate of %s: %w", tmpl.Subject.CommonName, err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// template completes tmpl with a random serial number and a validity period
// that starts an hour ago, to tolerate clock skew.
func template(tmpl *x509.Certificate) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate a serial number: %w", err)
	}
	now := time.Now()
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-time.Hour)
	tmpl.NotAfter = now.Add(certValidity)
	return tmpl, nil
}

func encodeCert(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode a private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// Files the credentials are written to, in the cluster's pki directory.
const (
	caCertFile      = "ca.crt"
	servingCertFile = "apiserver.crt"
	servingKeyFile  = "apiserver.key"
	saKeyFile       = "sa.key"
	saPublicKeyFile = "sa.pub"
	// The front proxy's CA and the API server's client certificate for
	// aggregated API servers.
	frontProxyCAFile = "front-proxy-ca.crt"
	proxyClientCert  = "front-proxy-client.crt"
	proxyClientKey   = "front-proxy-client.key"
)

// write stores the files the processes read in dir, readable by the owner
// only. The administrator's key goes into kubeconfigs only.
func (c *credentials) write(dir string) error {
	for name, data := range map[string][]byte{
		caCertFile:       c.caCert,
		servingCertFile:  c.servingCert,
		servingKeyFile:   c.servingKey,
		saKeyFile:        c.saKey,
		saPublicKeyFile:  c.saPublicKey,
		frontProxyCAFile: c.frontProxyCACert,
		proxyClientCert:  c.proxyCert,
		proxyClientKey:   c.proxyKey,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// restConfig reaches the API server at host as the administrator.
func (c *credentials) restConfig(host string) *rest.Config {
	return &rest.Config{
		Host: host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   c.caCert,
			CertData: c.adminCert,
			KeyData:  c.adminKey,
		},
	}
}

// writeKubeconfig writes a kubeconfig for the administrator at host to path,
// readable by the owner only.
func (c *credentials) writeKubeconfig(host, path string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: c.caCert}
	cfg.AuthInfos[AdminUser] = &clientcmdapi.AuthInfo{ClientCertificateData: c.adminCert, ClientKeyData: c.adminKey}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: AdminUser}
	cfg.CurrentContext = contextName
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encode the kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create the kubeconfig's directory: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write the kubeconfig: %w", err)
	}
	// WriteFile keeps the mode of a file that already exists.
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("restrict the kubeconfig to its owner: %w", err)
	}
	return nil
}

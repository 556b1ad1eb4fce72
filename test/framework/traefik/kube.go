package traefik

import (
	"context"
	"errors"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// serviceAccount is Traefik's identity in the cluster.
const serviceAccount = "traefik"

// tokenLifetime is how long Traefik's token is valid: longer than any test
// or sandbox session.
const tokenLifetime = 24 * 60 * 60

// kube writes the cluster objects Traefik needs.
type kube struct {
	c client.Client
}

// newKube connects to the API server as the administrator.
func newKube(cfg *rest.Config) (*kube, error) {
	scheme := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), gatewayv1.Install(scheme)); err != nil {
		return nil, fmt.Errorf("traefik: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("traefik: connect to the API server: %w", err)
	}
	return &kube{c: c}, nil
}

// clusterRole is what Traefik's Gateway API provider reads and writes.
func clusterRole() *rbacv1.ClusterRole {
	read := []string{"get", "list", "watch"}
	gw := gatewayv1.GroupName
	return &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "sluice-test-traefik"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"namespaces", "services", "secrets", "configmaps"}, Verbs: read},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: read},
			{APIGroups: []string{gw}, Verbs: read, Resources: []string{
				"gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants", "backendtlspolicies",
				"tcproutes", "tlsroutes",
			}},
			{APIGroups: []string{gw}, Verbs: []string{"update", "patch"}, Resources: []string{
				"gatewayclasses/status", "gateways/status", "httproutes/status", "grpcroutes/status",
				"backendtlspolicies/status", "tcproutes/status", "tlsroutes/status",
			}},
		},
	}
}

// grantAccess creates the namespace, Traefik's ServiceAccount, its
// ClusterRole and binding, and returns a token for it.
func (k *kube) grantAccess(ctx context.Context, namespace string) (string, error) {
	role := clusterRole()
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: serviceAccount, Namespace: namespace}},
		role,
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role.Name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: serviceAccount, Namespace: namespace}},
		},
	}
	if err := k.create(ctx, objs...); err != nil {
		return "", err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: serviceAccount, Namespace: namespace}}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](tokenLifetime)}}
	if err := k.c.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("traefik: request a token for ServiceAccount %s/%s: %w", namespace, serviceAccount, err)
	}
	return tr.Status.Token, nil
}

// createGateway creates the GatewayClass and the Gateway, whose HTTP
// listener takes the port of Traefik's web entry point and routes of every
// namespace.
func (k *kube) createGateway(ctx context.Context, namespace string, port int) error {
	all := gatewayv1.NamespacesFromAll
	return k.create(ctx,
		&gatewayv1.GatewayClass{
			ObjectMeta: metav1.ObjectMeta{Name: GatewayClassName},
			Spec:       gatewayv1.GatewayClassSpec{ControllerName: ControllerName},
		},
		&gatewayv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Name: GatewayName, Namespace: namespace},
			Spec: gatewayv1.GatewaySpec{
				GatewayClassName: GatewayClassName,
				Listeners: []gatewayv1.Listener{{
					Name: "web", Protocol: gatewayv1.HTTPProtocolType, Port: gatewayv1.PortNumber(port),
					AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &all}},
				}},
			},
		},
	)
}

// create creates objects; one that exists already is left as it is, except
// a Gateway, whose listener port is set to this Traefik's.
func (k *kube) create(ctx context.Context, objs ...client.Object) error {
	for _, obj := range objs {
		err := k.c.Create(ctx, obj)
		if apierrors.IsAlreadyExists(err) {
			if gw, ok := obj.(*gatewayv1.Gateway); ok {
				err = k.updateGateway(ctx, gw)
			} else {
				err = nil
			}
		}
		if err != nil {
			return fmt.Errorf("traefik: create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// updateGateway gives an existing Gateway the spec of want (a Traefik
// started earlier on this cluster had another port).
func (k *kube) updateGateway(ctx context.Context, want *gatewayv1.Gateway) error {
	var gw gatewayv1.Gateway
	if err := k.c.Get(ctx, client.ObjectKeyFromObject(want), &gw); err != nil {
		return err
	}
	gw.Spec = want.Spec
	return k.c.Update(ctx, &gw)
}

// waitProgrammed waits until Traefik reports the Gateway Programmed at its
// current generation.
func (k *kube) waitProgrammed(ctx context.Context, namespace string, exited func() error) error {
	what := fmt.Sprintf("Traefik to program Gateway %s/%s", namespace, GatewayName)
	return poll(ctx, what, exited, func(ctx context.Context) (bool, error) {
		var gw gatewayv1.Gateway
		if err := k.c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: GatewayName}, &gw); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
		switch {
		case c == nil:
			return false, errors.New("no Programmed condition yet")
		case c.ObservedGeneration != gw.Generation || c.Status != metav1.ConditionTrue:
			return false, fmt.Errorf("condition Programmed %s at generation %d of %d: %s: %s",
				c.Status, c.ObservedGeneration, gw.Generation, c.Reason, c.Message)
		}
		return true, nil
	})
}

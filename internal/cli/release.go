package cli

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Kind selects which kind of release a name refers to.
type Kind string

// The kinds of release the plugin knows. KindAny resolves a name to
// whichever kind exists.
const (
	KindAny       Kind = ""
	KindCanary    Kind = "canary"
	KindBlueGreen Kind = "bluegreen"
)

// ParseKind reads the --kind flag: canary, bluegreen, or empty for any.
// Kubernetes' names for the kinds are accepted too.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(s) {
	case "":
		return KindAny, nil
	case "canary", "canaries":
		return KindCanary, nil
	case "bluegreen", "bluegreens", "bg":
		return KindBlueGreen, nil
	}
	return KindAny, fmt.Errorf("unknown kind %q: use canary or bluegreen", s)
}

// release is a Canary or a BlueGreen, found by name.
type release struct {
	canary    *v1alpha1.Canary
	blueGreen *v1alpha1.BlueGreen
}

// object is the release as a client object.
func (r release) object() client.Object {
	if r.canary != nil {
		return r.canary
	}
	return r.blueGreen
}

// kind is the release's kind as users type it.
func (r release) kind() Kind {
	if r.canary != nil {
		return KindCanary
	}
	return KindBlueGreen
}

// String names the release as the plugin prints it: "canary shop/podinfo".
func (r release) String() string {
	o := r.object()
	return fmt.Sprintf("%s %s/%s", r.kind(), o.GetNamespace(), o.GetName())
}

// command is what the operator recorded of the last command of kind cmd.
func (r release) command(cmd v1alpha1.Command) *v1alpha1.CommandStatus {
	var done []v1alpha1.CommandStatus
	if r.canary != nil {
		done = r.canary.Status.Commands
	} else {
		done = r.blueGreen.Status.Commands
	}
	for i := range done {
		if done[i].Name == cmd {
			return &done[i]
		}
	}
	return nil
}

// find resolves a name in a namespace to a Canary or a BlueGreen. With
// KindAny a name both kinds use is ambiguous and must be told apart with
// --kind; a name neither uses is an error that names namespace and name.
func find(ctx context.Context, c client.Client, ns, name string, kind Kind) (release, error) {
	key := types.NamespacedName{Namespace: ns, Name: name}
	var r release
	if kind != KindBlueGreen {
		cn := &v1alpha1.Canary{}
		switch err := c.Get(ctx, key, cn); {
		case err == nil:
			r.canary = cn
		case !apierrors.IsNotFound(err):
			return release{}, fmt.Errorf("get canary %s/%s: %w", ns, name, err)
		}
	}
	if kind != KindCanary {
		bg := &v1alpha1.BlueGreen{}
		switch err := c.Get(ctx, key, bg); {
		case err == nil:
			r.blueGreen = bg
		case !apierrors.IsNotFound(err):
			return release{}, fmt.Errorf("get bluegreen %s/%s: %w", ns, name, err)
		}
	}
	switch {
	case r.canary != nil && r.blueGreen != nil:
		return release{}, fmt.Errorf("both a Canary and a BlueGreen are named %s in namespace %s: choose one with --kind canary or --kind bluegreen", name, ns)
	case r.canary != nil || r.blueGreen != nil:
		return r, nil
	case kind == KindCanary:
		return release{}, fmt.Errorf("no Canary named %s in namespace %s%s", name, ns, otherKindHint(ctx, c, key, KindBlueGreen))
	case kind == KindBlueGreen:
		return release{}, fmt.Errorf("no BlueGreen named %s in namespace %s%s", name, ns, otherKindHint(ctx, c, key, KindCanary))
	}
	return release{}, fmt.Errorf("no Canary or BlueGreen named %s in namespace %s", name, ns)
}

// otherKindHint says when the name exists as the other kind: the user asked
// for the wrong kind.
func otherKindHint(ctx context.Context, c client.Client, key types.NamespacedName, other Kind) string {
	var obj client.Object = &v1alpha1.Canary{}
	if other == KindBlueGreen {
		obj = &v1alpha1.BlueGreen{}
	}
	if c.Get(ctx, key, obj) != nil {
		return ""
	}
	return fmt.Sprintf(" (it is a %s: drop --kind or use --kind %s)", other, other)
}

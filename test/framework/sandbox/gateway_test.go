package sandbox

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestTheGatewayScenarioIsInAllAndNeedsTraefik(t *testing.T) {
	all, err := Select("all")
	if err != nil {
		t.Fatal(err)
	}
	if !NeedsGateway(all) {
		t.Error("all does not run the gateway scenario")
	}
	for name, want := range map[string]bool{"gateway": true, "canary": false, "bluegreen": false} {
		sc, err := Select(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := NeedsGateway(sc); got != want {
			t.Errorf("scenario %s: NeedsGateway %v, want %v", name, got, want)
		}
	}
}

func TestTheStorefrontManifestRoutesThroughTheGateway(t *testing.T) {
	objs, err := render("manifests/storefront.yaml", map[string]string{
		"Namespace": "demo", "Image": "demo/storefront:v1", "Prometheus": "", "Tester": "",
		"GatewayNamespace": "traefik", "GatewayName": "sluice",
	})
	if err != nil {
		t.Fatal(err)
	}
	var c *v1alpha1.Canary
	for _, u := range objs {
		if u.GetKind() == KindCanary {
			c = &v1alpha1.Canary{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, c, true); err != nil {
				t.Fatalf("decode the Canary strictly: %v", err)
			}
		}
	}
	if c == nil {
		t.Fatal("no Canary in manifests/storefront.yaml")
	}
	gw := c.Spec.TrafficRouting.GatewayAPI
	if gw == nil || len(gw.HTTPRoute.ParentRefs) != 1 {
		t.Fatalf("want one Gateway parentRef, got %+v", c.Spec.TrafficRouting)
	}
	if p := gw.HTTPRoute.ParentRefs[0]; p.Name != "sluice" || p.Namespace != "traefik" {
		t.Errorf("parentRef %+v, want the Gateway traefik/sluice", p)
	}
	if a := c.Spec.Analysis; a == nil || a.TemplateRef == nil || a.TemplateRef.Name != "traefik" || a.Provider != nil {
		t.Errorf("analysis %+v: want the traefik preset through the operator's default provider", a)
	}
}

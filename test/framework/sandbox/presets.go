package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// installPresets applies the analysis presets Sluice ships, read from
// config/presets (the kustomization's resources, the files the chart ships
// too), as a platform team installs them: the demo apps' analyses refer to
// them by name.
func installPresets(ctx context.Context, c client.Client) error {
	root, err := apiserver.RepoRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, "config", "presets")
	files, err := presetFiles(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		objs, err := decodeFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		for _, u := range objs {
			err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("sluice-sandbox"), client.ForceOwnership)
			if err != nil {
				return fmt.Errorf("apply preset %s %s from config/presets/%s: %w", u.GetKind(), u.GetName(), f, err)
			}
		}
	}
	return nil
}

// presetFiles lists the resources of dir's kustomization.yaml.
func presetFiles(dir string) ([]string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read the presets' kustomization: %w", err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Join(dir, "kustomization.yaml"), err)
	}
	if len(k.Resources) == 0 {
		return nil, fmt.Errorf("%s lists no resources", filepath.Join(dir, "kustomization.yaml"))
	}
	return k.Resources, nil
}

// decodeFile decodes every object of a YAML file.
func decodeFile(path string) ([]*unstructured.Unstructured, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeAll(path, bytes.NewReader(raw))
}

// decodeAll decodes every object of a YAML stream; name says where it
// comes from, for errors.
func decodeAll(name string, r io.Reader) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decode %s: %w", name, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

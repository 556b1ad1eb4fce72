package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/rest"
)

// GetTable asks the API server for the objects of a resource in a namespace
// as `kubectl get` does: a Table with every column the CRD declares, the
// priority ones (-o wide) included, computed by the server.
func GetTable(ctx context.Context, cfg *rest.Config, gv schema.GroupVersion, resource, namespace string) (*metav1.Table, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("%s/apis/%s/namespaces/%s/%s?includeObject=None", strings.TrimRight(cfg.Host, "/"),
		gv.String(), namespace, resource)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s: %s", url, resp.Status, body)
	}
	var table metav1.Table
	if err := json.Unmarshal(body, &table); err != nil {
		return nil, fmt.Errorf("decode the Table of %s: %w", url, err)
	}
	return &table, nil
}

// PrintTable renders a Table with kubectl's own table printer, as `kubectl
// get` prints it; wide adds the priority columns, as `-o wide` does.
func PrintTable(table *metav1.Table, wide bool) (string, error) {
	var buf bytes.Buffer
	if err := printers.NewTablePrinter(printers.PrintOptions{Wide: wide}).PrintObj(table.DeepCopy(), &buf); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// TableRow returns the only row of a Table by column name; a cell the
// server left empty is "".
func TableRow(table *metav1.Table) (map[string]string, error) {
	if len(table.Rows) != 1 {
		return nil, fmt.Errorf("the Table has %d rows, want 1", len(table.Rows))
	}
	out := map[string]string{}
	for i, col := range table.ColumnDefinitions {
		v := table.Rows[0].Cells[i]
		if v == nil {
			out[col.Name] = ""
			continue
		}
		out[col.Name] = fmt.Sprint(v)
	}
	return out, nil
}

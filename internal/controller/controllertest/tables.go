package controllertest

import (
	"context"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	"k8s.io/client-go/rest"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// Table is the release objects of Resource ("canaries", "bluegreens") as
// `kubectl get` shows them, asked of the API server at Config.
type Table struct {
	Config   *rest.Config
	Resource string
}

// Row asks the API server for the objects in ns as `kubectl get -o wide`
// does (a Table with every column) and returns the only row by column name.
func (t Table) Row(ctx context.Context, ns string) map[string]string {
	row, err := t.row(ctx, ns)
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	return row
}

// WaitForRow waits until the only row in ns has, in each column of want,
// its value there, and returns that row.
func (t Table) WaitForRow(ctx context.Context, ns string, want map[string]string) map[string]string {
	var row map[string]string
	gomega.EventuallyWithOffset(1, func(g gomega.Gomega) {
		var err error
		row, err = t.row(ctx, ns)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		for column, value := range want {
			g.Expect(row).To(gomega.HaveKeyWithValue(column, value))
		}
	}).Should(gomega.Succeed())
	return row
}

func (t Table) row(ctx context.Context, ns string) (map[string]string, error) {
	table, err := apiserver.GetTable(ctx, t.Config, v1alpha1.GroupVersion, t.Resource, ns)
	if err != nil {
		return nil, err
	}
	return apiserver.TableRow(table)
}

// Print prints the objects in ns as `kubectl get <resource>` and `-o wide`
// show them, with kubectl's own printer (the text the docs quote), headed
// by when.
func (t Table) Print(ctx context.Context, ns, when string) {
	table, err := apiserver.GetTable(ctx, t.Config, v1alpha1.GroupVersion, t.Resource, ns)
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	for _, wide := range []bool{false, true} {
		text, err := apiserver.PrintTable(table, wide)
		gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
		flag := ""
		if wide {
			flag = " -o wide"
		}
		ginkgo.GinkgoWriter.Printf("%s:\n$ kubectl get %s%s\n%s\n", when, t.Resource, flag, text)
	}
}

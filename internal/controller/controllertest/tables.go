package controllertest

import (
	"context"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	"k8s.io/client-go/rest"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// TableRow asks the API server for the release objects of resource
// ("canaries", "bluegreens") in ns as `kubectl get -o wide` does (a Table
// with every column) and returns the only row by column name.
func TableRow(ctx context.Context, cfg *rest.Config, resource, ns string) map[string]string {
	table, err := apiserver.GetTable(ctx, cfg, v1alpha1.GroupVersion, resource, ns)
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	row, err := apiserver.TableRow(table)
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	return row
}

// PrintTables prints the release objects of resource in ns as `kubectl get
// <resource>` and `-o wide` show them, with kubectl's own printer (the text
// the docs quote), headed by when.
func PrintTables(ctx context.Context, cfg *rest.Config, resource, ns, when string) {
	table, err := apiserver.GetTable(ctx, cfg, v1alpha1.GroupVersion, resource, ns)
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	for _, wide := range []bool{false, true} {
		text, err := apiserver.PrintTable(table, wide)
		gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
		flag := ""
		if wide {
			flag = " -o wide"
		}
		ginkgo.GinkgoWriter.Printf("%s:\n$ kubectl get %s%s\n%s\n", when, resource, flag, text)
	}
}

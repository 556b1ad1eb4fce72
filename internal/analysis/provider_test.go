package analysis

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"
)

func TestErrorClassesAreToldApartAndKeepTheirCause(t *testing.T) {
	g := NewWithT(t)
	noData := NoDataf("the query matched %d series", 0)
	provider := ProviderErrorf("query timed out: %w", context.DeadlineExceeded)
	wrapped := errors.Join(errors.New("check error-rate"), provider)

	g.Expect(errors.Is(noData, ErrNoData)).To(BeTrue())
	g.Expect(errors.Is(noData, ErrProvider)).To(BeFalse())
	g.Expect(noData).To(MatchError("no data: the query matched 0 series"))

	g.Expect(errors.Is(provider, ErrProvider)).To(BeTrue())
	g.Expect(errors.Is(provider, ErrNoData)).To(BeFalse())
	g.Expect(errors.Is(provider, context.DeadlineExceeded)).To(BeTrue(), "the cause stays reachable")
	g.Expect(errors.Is(wrapped, ErrProvider)).To(BeTrue(), "the class survives wrapping")
}

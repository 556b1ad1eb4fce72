package rollout

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestEachActionBelongsToExactlyOneMachine(t *testing.T) {
	g := NewWithT(t)
	canary := []Action{SetWeight{}, EnsurePrimary{}, ReplacePrimary{}, ScaleCanary{}}
	blueGreen := []Action{EnsureColor{}, ScaleColor{}, SwitchService{}, ScaleTarget{}}
	for _, a := range canary {
		_, isCanary := a.(CanaryAction)
		_, isBlueGreen := a.(BlueGreenAction)
		g.Expect(isCanary && !isBlueGreen).To(BeTrue(), "%T must be a Canary action only", a)
	}
	for _, a := range blueGreen {
		_, isCanary := a.(CanaryAction)
		_, isBlueGreen := a.(BlueGreenAction)
		g.Expect(isBlueGreen && !isCanary).To(BeTrue(), "%T must be a BlueGreen action only", a)
	}
}

package deadline

import (
	"testing"
	"time"
)

func TestParseFactor(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     float64
		wantErr  bool
	}{
		{name: "unset means the default", in: "", want: DefaultFactor},
		{name: "an integer is taken as it is", in: "5", want: 5},
		{name: "a fraction above one is taken", in: "1.5", want: 1.5},
		{name: "one leaves deadlines as written", in: "1", want: 1},
		{name: "below one is refused: a deadline is never shortened", in: "0.5", wantErr: true},
		{name: "zero is refused", in: "0", wantErr: true},
		{name: "a word is refused", in: "slow", wantErr: true},
		{name: "an absurd factor is refused", in: "1000", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFactor(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseFactor(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseFactor(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestScaleStretchesByTheFactor(t *testing.T) {
	t.Setenv(EnvVar, "")
	want := time.Duration(float64(10*time.Second) * factor())
	if got := Scale(10 * time.Second); got != want || got < 10*time.Second {
		t.Fatalf("Scale(10s) = %v, want %v (never less than 10s)", got, want)
	}
}

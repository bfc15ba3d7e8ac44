package sources_test

import (
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
)

// checked is a config whose Validate asks for host, wants size under 100
// and refuses the mode "off"; the description under test varies.
type checked struct {
	noop
	Host string `json:"host" required:"true" example:"db.example.com" help:"the host"`
	Size int    `json:"size,omitempty" default:"50" example:"10" help:"page size"`
}

func (c *checked) Validate() sources.FieldErrors {
	var errs sources.FieldErrors
	if c.Host == "" {
		errs.Add("host", "required")
	}
	if c.Size >= 100 {
		errs.Add("size", "must be under 100")
	}
	return errs
}

// Descriptions that contradict checked's Validate.
type (
	requiredNotAsked struct {
		checked
		Port string `json:"port" required:"true" help:"the port"`
	}
	exampleRefused struct {
		checked
		Limit int `json:"limit" example:"7" help:"a limit"`
	}
	defaultRefused struct {
		noop
		Size int `json:"size" default:"500" help:"page size"`
	}
)

func (c *exampleRefused) Validate() sources.FieldErrors {
	if c.Limit == 7 {
		return sources.FieldErrors{"limit": "seven is unlucky"}
	}
	return nil
}

func (c *defaultRefused) Validate() sources.FieldErrors {
	if c.Size > 100 {
		return sources.FieldErrors{"size": "must be under 100"}
	}
	return nil
}

func TestCheckSettingsComparesWithValidate(t *testing.T) {
	tests := []struct {
		name string
		new  func() sources.Config
		want string // "" for no problem
	}{
		{"agrees", func() sources.Config { return &checked{} }, ""},
		{"required but not asked for", func() sources.Config { return &requiredNotAsked{} }, "port is described as required, but Validate accepts settings without it"},
		{"an example Validate refuses", func() sources.Config { return &exampleRefused{} }, `limit's example "7" is refused: seven is unlucky`},
		{"a default Validate refuses", func() sources.Config { return &defaultRefused{} }, "size's default 500 is refused: must be under 100"},
		{"a malformed description", func() sources.Config { return &noHelp{} }, "no help tag"},
		{"no New", nil, "has no New"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sources.Kind{New: tt.new}.CheckSettings()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckSettings = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckSettings = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

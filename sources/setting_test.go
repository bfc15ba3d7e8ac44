package sources_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
)

// described is a config whose struct uses every kind of tag.
type described struct {
	URL     string   `json:"url" type:"url" required:"true" example:"https://example.com" help:"where"`
	Token   string   `json:"token,omitempty" secret:"true" help:"the token"`
	Key     string   `json:"key,omitempty" type:"text" secret:"true" help:"a PEM key"`
	Size    int      `json:"size,omitempty" default:"500" example:"20" help:"page size"`
	Reserve *int     `json:"reserve,omitempty" default:"10" help:"percent"`
	Nested  bool     `json:"nested,omitempty" help:"expand"`
	Every   string   `json:"every,omitempty" type:"duration" default:"24h" help:"how often"`
	Mode    string   `json:"mode,omitempty" values:"auto,on,off" default:"auto" help:"dpop"`
	Types   []string `json:"types,omitempty" values:"A,B,C" default:"A,B" example:"C" help:"which types"`
	Tags    []string `json:"tags,omitempty" example:"x, y" help:"free items"`
	Skipped string   `json:"-"`
	hidden  string
}

func (*described) Validate() sources.FieldErrors            { return nil }
func (*described) Open(sources.Env) (sources.Source, error) { return nil, nil }

// Each malformed struct has one problem, which Describe must name.
type (
	noHelp struct {
		noop
		A string `json:"a"`
	}
	noName struct {
		noop
		A string `help:"a"`
	}
	secretInt struct {
		noop
		A int `json:"a" secret:"true" help:"a"`
	}
	badDefault struct {
		noop
		A int `json:"a" default:"many" help:"a"`
	}
	requiredWithDefault struct {
		noop
		A string `json:"a" required:"true" default:"x" help:"a"`
	}
	unknownType struct {
		noop
		A string `json:"a" type:"colour" help:"a"`
	}
	typeOnInt struct {
		noop
		A int `json:"a" type:"duration" help:"a"`
	}
	mapField struct {
		noop
		A map[string]string `json:"a" help:"a"`
	}
	valuesOnInt struct {
		noop
		A int `json:"a" values:"1,2" help:"a"`
	}
	defaultNotAValue struct {
		noop
		A string `json:"a" values:"x,y" default:"z" help:"a"`
	}
	badDurationExample struct {
		noop
		A string `json:"a" type:"duration" example:"a day" help:"a"`
	}
	badBool struct {
		noop
		A string `json:"a" required:"yes please" help:"a"`
	}
)

// noop makes the structs above Configs; unexported, it is no setting.
type noop struct{}

func (noop) Validate() sources.FieldErrors            { return nil }
func (noop) Open(sources.Env) (sources.Source, error) { return nil, nil }

// notStruct is a Config that is no struct at all.
type notStruct string

func (notStruct) Validate() sources.FieldErrors            { return nil }
func (notStruct) Open(sources.Env) (sources.Source, error) { return nil, nil }

func TestDescribeReadsTheTags(t *testing.T) {
	got, err := sources.Describe(&described{})
	if err != nil {
		t.Fatal(err)
	}
	want := []sources.Setting{
		{Name: "url", Type: sources.TypeURL, Required: true, Example: "https://example.com", Help: "where"},
		{Name: "token", Type: sources.TypeString, Secret: true, Help: "the token"},
		{Name: "key", Type: sources.TypeText, Secret: true, Help: "a PEM key"},
		{Name: "size", Type: sources.TypeInteger, Default: 500, Example: "20", Help: "page size"},
		{Name: "reserve", Type: sources.TypeInteger, Default: 10, Help: "percent"},
		{Name: "nested", Type: sources.TypeBoolean, Default: false, Help: "expand"},
		{Name: "every", Type: sources.TypeDuration, Default: "24h", Help: "how often"},
		{Name: "mode", Type: sources.TypeEnum, Default: "auto", Values: []string{"auto", "on", "off"}, Help: "dpop"},
		{Name: "types", Type: sources.TypeStringList, Default: []string{"A", "B"}, Example: "C", Values: []string{"A", "B", "C"}, Help: "which types"},
		{Name: "tags", Type: sources.TypeStringList, Example: "x, y", Help: "free items"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Describe:\n got %+v\nwant %+v", got, want)
	}
	k := sources.Kind{New: func() sources.Config { return &described{} }}
	if s := k.Secrets(); !reflect.DeepEqual(s, []string{"token", "key"}) {
		t.Errorf("Secrets() = %v, want the settings marked secret", s)
	}
	if (sources.Kind{}).Settings() != nil || (sources.Kind{}).Secrets() != nil {
		t.Error("a kind without New must describe no settings")
	}
}

func TestDescribeNamesEveryProblem(t *testing.T) {
	tests := []struct {
		name string
		cfg  sources.Config
		want string
	}{
		{"a field without help", &noHelp{}, "noHelp.A: no help tag"},
		{"a field without a json name", &noName{}, "noName.A: no json name"},
		{"a secret that is not a string", &secretInt{}, "a secret must be a string"},
		{"a default of the wrong type", &badDefault{}, `default: "many" is not an integer`},
		{"required and defaulted", &requiredWithDefault{}, "required and with a default"},
		{"an unknown type tag", &unknownType{}, `type tag "colour" is not one of`},
		{"a type tag on an int", &typeOnInt{}, "applies to plain strings only"},
		{"a type Describe cannot write", &mapField{}, "type map[string]string cannot be described"},
		{"values on an int", &valuesOnInt{}, "values apply to strings and string lists only"},
		{"a default outside the values", &defaultNotAValue{}, `default: "z" is not one of x, y`},
		{"an example that is no duration", &badDurationExample{}, `example: "a day" is not a duration`},
		{"a flag that is not a boolean", &badBool{}, `required tag "yes please" is not true or false`},
		{"not a struct", notStruct("x"), "is not a pointer to a struct"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sources.Describe(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Describe(%T) = %v, want an error with %q", tt.cfg, err, tt.want)
			}
		})
	}
}

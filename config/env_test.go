package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
)

// envTestLookup returns a Lookup that reads m instead of the process
// environment, so that tests never set real environment variables.
func envTestLookup(m map[string]string) func(string) (string, bool) {
	return func(key string) (string, bool) {
		v, ok := m[key]
		return v, ok
	}
}

func TestParseBool(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"y", true}, {"yes", true}, {"t", true}, {"true", true}, {"on", true}, {"1", true},
		{"n", false}, {"no", false}, {"f", false}, {"false", false}, {"off", false}, {"0", false},
		{"Y", true}, {"YES", true}, {"T", true}, {"TRUE", true}, {"On", true}, {"True", true},
		{"N", false}, {"No", false}, {"F", false}, {"FALSE", false}, {"Off", false}, {"oFf", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := config.ParseBool(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseBoolRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "maybe", "2", "yess", "-1", "tru", "enabled"} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			_, err := config.ParseBool(in)
			require.Error(t, err)
			var cfgErr *config.Error
			require.ErrorAs(t, err, &cfgErr)
			require.Equal(t, in, cfgErr.Value)
			require.ErrorIs(t, err, config.ErrInvalid)
		})
	}
}

func TestEnvironmentGetPrecedence(t *testing.T) {
	t.Parallel()
	const key = "POSTGRES_SCHEMA"
	const prefixed = "BANK_ACCOUNTS_" + key
	tests := []struct {
		name    string
		envName string
		values  map[string]string
		process map[string]string
		want    string
		wantOK  bool
	}{
		{
			name: "nothing set", envName: "BankAccounts",
			wantOK: false,
		},
		{
			name: "plain in process only", envName: "BankAccounts",
			process: map[string]string{key: "plain-process"},
			want:    "plain-process", wantOK: true,
		},
		{
			name: "plain in values overrides plain in process", envName: "BankAccounts",
			values:  map[string]string{key: "plain-values"},
			process: map[string]string{key: "plain-process"},
			want:    "plain-values", wantOK: true,
		},
		{
			name: "prefixed in process overrides plain in values", envName: "BankAccounts",
			values:  map[string]string{key: "plain-values"},
			process: map[string]string{key: "plain-process", prefixed: "prefixed-process"},
			want:    "prefixed-process", wantOK: true,
		},
		{
			name: "prefixed in values overrides everything", envName: "BankAccounts",
			values:  map[string]string{key: "plain-values", prefixed: "prefixed-values"},
			process: map[string]string{key: "plain-process", prefixed: "prefixed-process"},
			want:    "prefixed-values", wantOK: true,
		},
		{
			name: "prefixed in values overrides prefixed in process", envName: "BankAccounts",
			values:  map[string]string{prefixed: "prefixed-values"},
			process: map[string]string{prefixed: "prefixed-process"},
			want:    "prefixed-values", wantOK: true,
		},
		{
			name: "prefixed in process overrides plain in process", envName: "BankAccounts",
			process: map[string]string{key: "plain-process", prefixed: "prefixed-process"},
			want:    "prefixed-process", wantOK: true,
		},
		{
			name: "empty prefixed value still overrides", envName: "BankAccounts",
			values:  map[string]string{key: "plain-values"},
			process: map[string]string{prefixed: ""},
			want:    "", wantOK: true,
		},
		{
			name: "no name ignores prefixed keys", envName: "",
			values:  map[string]string{prefixed: "prefixed-values"},
			process: map[string]string{key: "plain-process"},
			want:    "plain-process", wantOK: true,
		},
		{
			name: "another application's prefix is ignored", envName: "Worlds",
			values:  map[string]string{prefixed: "prefixed-values"},
			process: map[string]string{key: "plain-process"},
			want:    "plain-process", wantOK: true,
		},
		{
			name: "the Python library's upper-cased prefix", envName: "BankAccounts",
			process: map[string]string{key: "plain-process", "BANKACCOUNTS_" + key: "seeds-process"},
			want:    "seeds-process", wantOK: true,
		},
		{
			name: "the Python library's prefix in values overrides plain in values", envName: "DogSchool",
			values: map[string]string{key: "plain-values", "DOGSCHOOL_" + key: "seeds-values"},
			want:   "seeds-values", wantOK: true,
		},
		{
			name: "the snake-case prefix wins over the Python library's prefix", envName: "BankAccounts",
			process: map[string]string{"BANKACCOUNTS_" + key: "seeds-process", prefixed: "prefixed-process"},
			want:    "prefixed-process", wantOK: true,
		},
		{
			name: "prefix of a snake case name", envName: "worlds",
			process: map[string]string{key: "plain-process", "WORLDS_" + key: "prefixed-process"},
			want:    "prefixed-process", wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := config.Environment{
				Name:   tt.envName,
				Values: tt.values,
				Lookup: envTestLookup(tt.process),
			}
			got, ok := env.Get(key)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEnvironmentString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		values  map[string]string
		process map[string]string
		want    string
	}{
		{"unset gives default", nil, nil, "def"},
		{"empty gives default", map[string]string{"K": ""}, nil, "def"},
		{"empty in process gives default", nil, map[string]string{"K": ""}, "def"},
		{"set", nil, map[string]string{"K": "v"}, "v"},
		{"values override process", map[string]string{"K": "code"}, map[string]string{"K": "proc"}, "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := config.Environment{Values: tt.values, Lookup: envTestLookup(tt.process)}
			require.Equal(t, tt.want, env.String("K", "def"))
		})
	}
}

func TestEnvironmentBool(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		values  map[string]string
		process map[string]string
		def     bool
		want    bool
		wantErr string // bad value, if an error is expected
	}{
		{name: "unset gives default true", def: true, want: true},
		{name: "unset gives default false", def: false, want: false},
		{name: "empty gives default", values: map[string]string{"FLAG": ""}, def: true, want: true},
		{name: "empty in process gives default", process: map[string]string{"FLAG": ""}, def: true, want: true},
		{name: "n overrides default", process: map[string]string{"FLAG": "n"}, def: true, want: false},
		{name: "YES overrides default", values: map[string]string{"FLAG": "YES"}, def: false, want: true},
		{name: "values override process", values: map[string]string{"FLAG": "off"}, process: map[string]string{"FLAG": "on"}, def: true, want: false},
		{name: "bad value", values: map[string]string{"FLAG": "bogus"}, def: true, wantErr: "bogus"},
		{name: "bad value in process", process: map[string]string{"FLAG": "2"}, def: true, wantErr: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := config.Environment{Values: tt.values, Lookup: envTestLookup(tt.process)}
			got, err := env.Bool("FLAG", tt.def)
			if tt.wantErr != "" {
				var cfgErr *config.Error
				require.ErrorAs(t, err, &cfgErr)
				require.Equal(t, "FLAG", cfgErr.Var)
				require.Equal(t, tt.wantErr, cfgErr.Value)
				require.Contains(t, err.Error(), "FLAG")
				require.ErrorIs(t, err, config.ErrInvalid)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEnvironmentInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		value   *string // nil: unset
		def     int
		min     int
		want    int
		wantErr bool
	}{
		{name: "unset gives default", def: 5, min: 1, want: 5},
		{name: "empty gives default", value: envTestPtr(""), def: 5, min: 1, want: 5},
		{name: "blank gives default", value: envTestPtr("   "), def: 5, min: 1, want: 5},
		{name: "value", value: envTestPtr("7"), def: 5, min: 1, want: 7},
		{name: "value at min", value: envTestPtr("1"), def: 5, min: 1, want: 1},
		{name: "zero allowed with min 0", value: envTestPtr("0"), def: 5, min: 0, want: 0},
		{name: "surrounding spaces", value: envTestPtr(" 12 "), def: 5, min: 1, want: 12},
		{name: "below min", value: envTestPtr("0"), def: 5, min: 1, wantErr: true},
		{name: "negative", value: envTestPtr("-1"), def: 5, min: 0, wantErr: true},
		{name: "not an integer", value: envTestPtr("x"), def: 5, min: 0, wantErr: true},
		{name: "float", value: envTestPtr("1.5"), def: 5, min: 0, wantErr: true},
		{name: "overflow", value: envTestPtr("99999999999999999999999"), def: 5, min: 0, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			process := map[string]string{}
			if tt.value != nil {
				process["MY_INT"] = *tt.value
			}
			env := config.Environment{Lookup: envTestLookup(process)}
			got, err := env.Int("MY_INT", tt.def, tt.min)
			if tt.wantErr {
				var cfgErr *config.Error
				require.ErrorAs(t, err, &cfgErr)
				require.Equal(t, "MY_INT", cfgErr.Var)
				require.Equal(t, *tt.value, cfgErr.Value)
				require.Contains(t, err.Error(), "MY_INT")
				require.True(t, errors.Is(err, config.ErrInvalid))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEnvironmentIntPrefixed(t *testing.T) {
	t.Parallel()
	env := config.Environment{
		Name:   "BankAccounts",
		Values: map[string]string{"POOL": "3"},
		Lookup: envTestLookup(map[string]string{"BANK_ACCOUNTS_POOL": "9", "POOL": "4"}),
	}
	n, err := env.Int("POOL", 1, 1)
	require.NoError(t, err)
	require.Equal(t, 9, n)

	// A bad prefixed value is reported under the name that was set.
	env.Values = map[string]string{"BANK_ACCOUNTS_POOL": "nine"}
	_, err = env.Int("POOL", 1, 1)
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "BANK_ACCOUNTS_POOL", cfgErr.Var)
	require.Equal(t, "nine", cfgErr.Value)
}

func TestEnvironmentZeroValueUsesProcessEnv(t *testing.T) {
	t.Parallel()
	// The zero value reads the real process environment; look for a key
	// that is surely unset rather than setting one.
	key := "EVENTSOURCING_GO_TEST_SURELY_UNSET_" + strings.Repeat("X", 8)
	var env config.Environment
	_, ok := env.Get(key)
	require.False(t, ok)
	require.Equal(t, "def", env.String(key, "def"))
}

func TestSnakeCase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"BankAccounts", "bank_accounts"},
		{"Worlds", "worlds"},
		{"worlds", "worlds"},
		{"HTTPServer", "http_server"},
		{"MyHTTPServer", "my_http_server"},
		{"bank-accounts", "bank_accounts"},
		{"bank accounts", "bank_accounts"},
		{"Bank Accounts", "bank_accounts"},
		{"already_snake", "already_snake"},
		{"App2Go", "app2_go"},
		{"-leading-and-trailing-", "leading_and_trailing"},
		{"double--dash", "double_dash"},
		{"A", "a"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, config.SnakeCase(tt.in))
		})
	}
}

func envTestPtr(s string) *string { return &s }

// A typed setting wins over every spelling of its variable, in code and in
// the process environment, and errors name the setting.
func TestEnvironmentSettingsWin(t *testing.T) {
	t.Parallel()
	env := config.Environment{
		Name:     "BankAccounts",
		Values:   map[string]string{"BANK_ACCOUNTS_POSTGRES_SCHEMA": "code", "CREATE_TABLE": "y"},
		Lookup:   func(k string) (string, bool) { return "process", true },
		Settings: map[string]config.Setting{"POSTGRES_SCHEMA": {Name: "app.Options.Schema", Value: "typed"}, "CREATE_TABLE": {Name: "app.Options.CreateTable", Value: "maybe"}},
	}
	name, value, ok := env.Find("POSTGRES_SCHEMA")
	require.True(t, ok)
	require.Equal(t, "app.Options.Schema", name)
	require.Equal(t, "typed", value)
	_, err := env.Bool("CREATE_TABLE", true)
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "app.Options.CreateTable", cfgErr.Var)
	require.Equal(t, "process", env.String("POSTGRES_USER", ""), "other variables are read as before")
}

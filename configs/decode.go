package configs

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// The file is parsed into a generic tree first and then decoded into Config by the
// small decoder below rather than by the YAML library's own struct decoding: that way
// every error names the key path, unknown keys and wrong types are refused, nested
// mappings overlay the default key by key while lists replace it, and ${VAR} is
// expanded inside values only, so a variable's contents can never change the YAML's
// structure.

// decodeFile overlays the YAML document in data onto c.
func decodeFile(data []byte, c *Config, env func(string) (string, bool)) error {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return syntaxError(err)
	}
	docs := 0
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs++
		}
	}
	if docs > 1 {
		return &Error{Message: "the file must hold one YAML document, found " + strconv.Itoa(docs)}
	}
	var tree any
	if err := yaml.UnmarshalWithOptions(data, &tree, yaml.UseOrderedMap()); err != nil {
		return syntaxError(err)
	}
	if tree == nil {
		return nil // an empty file changes nothing
	}
	root, ok := tree.(yaml.MapSlice)
	if !ok {
		return &Error{Message: "the file must be a mapping of keys such as http: and shops:, not " + describe(tree)}
	}
	for _, it := range root {
		if it.Key == "shops" {
			// A file's shops replace the default ones as a whole.
			c.Shops, c.defaultShops = nil, false
		}
	}
	d := decoder{env: env}
	if err := d.decode("", root, reflect.ValueOf(c).Elem()); err != nil {
		return err
	}
	return nil
}

var yamlPosition = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*(.*)$`)

// syntaxError turns the YAML library's multi-line error into one line.
func syntaxError(err error) error {
	msg := yaml.FormatError(err, false, false)
	msg, _, _ = strings.Cut(strings.TrimSpace(msg), "\n")
	if m := yamlPosition.FindStringSubmatch(msg); m != nil {
		return &Error{Message: fmt.Sprintf("line %s column %s: %s", m[1], m[2], m[3])}
	}
	return &Error{Message: "invalid YAML: " + msg}
}

type decoder struct {
	env func(string) (string, bool)
}

var durationType = reflect.TypeFor[Duration]()

// decode stores src, a node of the generic tree, into dst; path names the key.
func (d decoder) decode(path string, src any, dst reflect.Value) error {
	if dst.Type() == durationType {
		return d.decodeDuration(path, src, dst)
	}
	switch dst.Kind() {
	case reflect.Struct:
		if src == nil {
			return nil // "http:" with nothing under it keeps what is there
		}
		m, ok := src.(yaml.MapSlice)
		if !ok {
			return typeError(path, "a mapping of keys", src)
		}
		return d.decodeStruct(path, m, dst)
	case reflect.Pointer:
		// A present key enables the optional section, even when empty ("sandbox: {}"
		// or "sandbox:"); only a *bool may be null, meaning "use the default".
		if src == nil && dst.Type().Elem().Kind() != reflect.Struct {
			dst.SetZero()
			return nil
		}
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return d.decode(path, src, dst.Elem())
	case reflect.Slice:
		if src == nil {
			dst.SetZero()
			return nil
		}
		list, ok := src.([]any)
		if !ok {
			return typeError(path, "a list", src)
		}
		out := reflect.MakeSlice(dst.Type(), len(list), len(list))
		for i, v := range list {
			if err := d.decode(fmt.Sprintf("%s[%d]", path, i), v, out.Index(i)); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	case reflect.String:
		if src == nil {
			dst.SetString("")
			return nil
		}
		s, ok := src.(string)
		if !ok {
			if isScalar(src) {
				return errorf(path, "must be a string, got %s (put it in quotes)", describe(src))
			}
			return typeError(path, "a string", src)
		}
		v, _, err := d.expand(path, s)
		if err != nil {
			return err
		}
		dst.SetString(v)
		return nil
	case reflect.Bool:
		switch v := src.(type) {
		case bool:
			dst.SetBool(v)
			return nil
		case string:
			// Only a value that came from ${VAR} may spell a boolean as text.
			if s, expanded, err := d.expand(path, v); err != nil {
				return err
			} else if expanded && (s == "true" || s == "false") {
				dst.SetBool(s == "true")
				return nil
			}
		}
		return typeError(path, "true or false", src)
	case reflect.Int64:
		switch v := src.(type) {
		case int64:
			dst.SetInt(v)
			return nil
		case uint64:
			if v > math.MaxInt64 {
				return errorf(path, "number out of range")
			}
			dst.SetInt(int64(v))
			return nil
		case string:
			if s, expanded, err := d.expand(path, v); err != nil {
				return err
			} else if expanded {
				n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
				if err != nil {
					return errorf(path, "must be a whole number, got %q", s)
				}
				dst.SetInt(n)
				return nil
			}
		}
		return typeError(path, "a whole number", src)
	}
	// Config only uses the kinds above; reaching here is a bug in this package.
	panic(fmt.Sprintf("configs: cannot decode into %s at %s", dst.Type(), path))
}

func (d decoder) decodeStruct(path string, m yaml.MapSlice, dst reflect.Value) error {
	t := dst.Type()
	for _, it := range m {
		key, ok := it.Key.(string)
		if !ok {
			return errorf(path, "keys must be names, got %s", describe(it.Key))
		}
		kp := key
		if path != "" {
			kp = path + "." + key
		}
		idx := fieldIndex(t, key)
		if idx < 0 {
			return errorf(kp, "unknown key (expected one of %s)", strings.Join(fieldNames(t), ", "))
		}
		if err := d.decode(kp, it.Value, dst.Field(idx)); err != nil {
			return err
		}
	}
	return nil
}

func (d decoder) decodeDuration(path string, src any, dst reflect.Value) error {
	s, ok := src.(string)
	if !ok {
		return typeError(path, `a duration such as "90s" or "2m"`, src)
	}
	s, _, err := d.expand(path, s)
	if err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return errorf(path, "must be a duration such as \"90s\" or \"2m\", got %q", s)
	}
	dst.SetInt(int64(v))
	return nil
}

// fieldIndex returns the index of t's field whose yaml tag is key, or -1.
func fieldIndex(t reflect.Type, key string) int {
	for i := range t.NumField() {
		if tagName(t.Field(i)) == key {
			return i
		}
	}
	return -1
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if n := tagName(t.Field(i)); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func tagName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// expand replaces ${NAME} in a value from the environment and reports whether it did.
// "$${" writes a literal "${"; a "$" not followed by "{" is kept as it is, so secrets
// containing "$" need no escaping.
func (d decoder) expand(path, s string) (string, bool, error) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	expanded := false
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", false, errorf(path, "unclosed ${ in value")
			}
			name := s[i+2 : i+2+end]
			if !envName.MatchString(name) {
				return "", false, errorf(path, "${%s} is not a valid environment variable reference", name)
			}
			v, ok := d.env(name)
			if !ok {
				return "", false, errorf(path, "environment variable %s is not set", name)
			}
			b.WriteString(v)
			expanded = true
			i += 2 + end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), expanded, nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func typeError(path, want string, got any) error {
	return errorf(path, "must be %s, got %s", want, describe(got))
}

func isScalar(v any) bool {
	switch v.(type) {
	case bool, int64, uint64, float64:
		return true
	}
	return false
}

// describe names a tree node's type for an error message, quoting short scalars.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing (null)"
	case yaml.MapSlice, map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		if len(v) > 40 {
			return "a string"
		}
		return fmt.Sprintf("the string %q", v)
	case bool:
		return fmt.Sprintf("the boolean %t", v)
	case int64, uint64:
		return fmt.Sprintf("the number %d", v)
	case float64:
		return "the number " + strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprintf("a value of type %T", v)
}

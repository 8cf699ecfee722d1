package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chinesium/chinesium/onvif"
)

// EnvPrefix starts the name of every environment variable Load reads.
const EnvPrefix = "CHINESIUM_"

// Shorthand keys, accepted in Settings and as environment variables
// (CHINESIUM_CAMERAS, CHINESIUM_USER, CHINESIUM_PASSWORD) besides the
// keys of the file.
const (
	// KeyCameras replaces the camera list with cameras written IP or
	// IP@BIND, separated by spaces or commas (see ParseCameras).
	KeyCameras = "cameras"
	// KeyUser and KeyPassword, given together, replace the user list with
	// one Administrator.
	KeyUser     = "user"
	KeyPassword = "password"
)

// Setting is one key set outside the file: by an environment variable or
// on the command line.
type Setting struct {
	// Key is a key outside the camera and user lists (listen.rtsp_port),
	// or a shorthand key (KeyCameras, KeyUser, KeyPassword).
	Key string
	// Value is the value as text: a number, true or false, a duration
	// such as 5s, a comma-separated list.
	Value string
	// Origin names where the setting came from in error messages, e.g.
	// "-rtsp-port"; "" means "the command line".
	Origin string
}

// Sources are where Load reads the configuration, in increasing order of
// precedence after the base.
type Sources struct {
	// File is the YAML file's path; "" reads none.
	File string
	// Environ holds the process's environment (os.Environ()); the
	// CHINESIUM_* variables in it are read. An empty value counts as
	// unset.
	Environ []string
	// Settings are the command line's settings, applied in order.
	Settings []Setting
}

// Load returns base overlaid with src: the file, then the environment,
// then the command line, each replacing what the ones before set (a list,
// such as the cameras, is replaced as a whole). It also returns a warning
// for every CHINESIUM_ variable that is no setting. Errors name the key,
// the value and where it came from; the file's unknown keys are errors.
// Load does not Validate.
func Load(base Config, src Sources) (Config, []string, error) {
	// Nothing below changes a list of base in place: lists are replaced.
	c := base
	c.origin = map[string]string{}
	if src.File != "" {
		b, err := os.ReadFile(src.File)
		if err != nil {
			return c, nil, fmt.Errorf("config: %w", err)
		}
		if err := c.decodeYAML(src.File, b); err != nil {
			return c, nil, err
		}
	}
	env, warnings := envSettings(src.Environ)
	var errs []error
	var user, password *Setting
	for _, s := range append(env, src.Settings...) {
		if s.Origin == "" {
			s.Origin = "the command line"
		}
		switch s.Key {
		case KeyUser:
			user = &s
		case KeyPassword:
			password = &s
		default:
			if err := c.set(s); err != nil {
				errs = append(errs, err)
			}
		}
	}
	switch {
	case user == nil && password == nil:
	case user == nil:
		errs = append(errs, fmt.Errorf("password: needs a user as well (%s sets only the password)", password.Origin))
	case password == nil:
		errs = append(errs, fmt.Errorf("user: needs a password as well (%s sets only the user)", user.Origin))
	default:
		c.Users = []User{{Name: user.Value, Password: password.Value, Level: onvif.LevelAdministrator}}
		c.origin["users[0].name"] = user.Origin
		c.origin["users[0].password"] = password.Origin
		c.origin["users[0].level"] = user.Origin
	}
	return c, warnings, errors.Join(errs...)
}

// EnvName returns the environment variable of key, e.g.
// CHINESIUM_LISTEN_RTSP_PORT for listen.rtsp_port.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// envSettings picks the CHINESIUM_ variables out of environ, sorted by
// name, and warns about those that are no setting.
func envSettings(environ []string) ([]Setting, []string) {
	names := map[string]string{}
	for _, k := range envKeys() {
		names[EnvName(k)] = k
	}
	var out []Setting
	var warnings []string
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key, ok := names[name]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("environment variable %s is no setting and is ignored (chinesium config example lists them)", name))
			continue
		}
		if val != "" {
			out = append(out, Setting{Key: key, Value: val, Origin: name})
		}
	}
	slices.SortFunc(out, func(a, b Setting) int { return strings.Compare(a.Origin, b.Origin) })
	slices.Sort(warnings)
	return out, warnings
}

// envKeys returns the keys that have an environment variable: every key
// outside the lists of structs, and the shorthand keys.
func envKeys() []string {
	keys := []string{KeyCameras, KeyUser, KeyPassword}
	walkKeys(reflect.TypeFor[Config](), "", func(key string, t reflect.Type) {
		if !strings.Contains(key, "[]") {
			keys = append(keys, key)
		}
	})
	return keys
}

// walkKeys calls fn with every leaf key under the struct type t (list
// items written as name[]) and the leaf's type.
func walkKeys(t reflect.Type, prefix string, fn func(key string, t reflect.Type)) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		key := joinKey(prefix, name)
		switch {
		case f.Type.Kind() == reflect.Struct:
			walkKeys(f.Type, key, fn)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			walkKeys(f.Type.Elem(), key+"[]", fn)
		default:
			fn(key, f.Type)
		}
	}
}

// yamlName returns the yaml key of a field, "" for fields that have none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// field returns the field of the struct value v whose key is name.
func field(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// leaf returns the value of key, a key outside the lists of structs.
func (c *Config) leaf(key string) (reflect.Value, error) {
	v := reflect.ValueOf(c).Elem()
	parts := strings.Split(key, ".")
	for i, p := range parts {
		f, ok := field(v, p)
		if !ok || (i < len(parts)-1) != (f.Kind() == reflect.Struct) ||
			f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct {
			return reflect.Value{}, fmt.Errorf("%s: no such setting", key)
		}
		v = f
	}
	return v, nil
}

// set applies one setting.
func (c *Config) set(s Setting) error {
	if s.Key == KeyCameras {
		cams, err := ParseCameras(s.Value)
		if err != nil {
			return fmt.Errorf("cameras: %w (%s)", err, s.Origin)
		}
		c.Cameras = cams
		c.setOrigin("cameras", s.Origin)
		return nil
	}
	v, err := c.leaf(s.Key)
	if err != nil {
		return fmt.Errorf("%w (%s)", err, s.Origin)
	}
	if err := setText(v, s.Value); err != nil {
		return fmt.Errorf("%s: %w (%s)", s.Key, err, s.Origin)
	}
	c.setOrigin(s.Key, s.Origin)
	return nil
}

// setOrigin records where key's value came from; it replaces the origins
// of everything below key, which the new value replaced.
func (c *Config) setOrigin(key, origin string) {
	for k := range c.origin {
		if strings.HasPrefix(k, key+".") || strings.HasPrefix(k, key+"[") {
			delete(c.origin, k)
		}
	}
	c.origin[key] = origin
}

// Get returns the value of key (as Setting.Value writes it), for a key
// outside the camera and user lists.
func (c Config) Get(key string) (string, error) {
	v, err := c.leaf(key)
	if err != nil {
		return "", err
	}
	return text(v), nil
}

// ParseCameras parses cameras written IP or IP@BIND (the camera's own
// local address), separated by spaces or commas. The addresses are
// checked by Validate.
func ParseCameras(s string) ([]Camera, error) {
	var cams []Camera
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		ip, bind, hasBind := strings.Cut(f, "@")
		if ip == "" || hasBind && bind == "" {
			return nil, fmt.Errorf("%q: write a camera as IP or IP@BIND, e.g. 10.10.1.30@192.168.1.201", f)
		}
		cams = append(cams, Camera{IP: ip, Bind: bind})
	}
	return cams, nil
}

var durationType = reflect.TypeFor[time.Duration]()

// setText sets the leaf v from its text form.
func setText(v reflect.Value, s string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 5s, 500ms or 1m30s", s)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.Set(reflect.ValueOf(&b))
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var list []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		panic("config: no text form for " + v.Type().String())
	}
	return nil
}

// text returns the text form of the leaf v.
func text(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		return time.Duration(v.Int()).String()
	case v.Kind() == reflect.String:
		return v.String()
	case v.Kind() == reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return text(v.Elem())
	case v.Kind() == reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case v.Kind() == reflect.Slice:
		return strings.Join(v.Interface().([]string), ",")
	}
	panic("config: no text form for " + v.Type().String())
}

// decodeYAML sets the keys the YAML document data (from the file name)
// holds. It walks the document itself, rather than leaving it to the yaml
// package, so that every value is read as the environment and the
// command line are (setText) and every error names its key.
func (c *Config) decodeYAML(name string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: more than one YAML document (a line with ---): write one", name)
	}
	d := decoder{file: name, c: c}
	if len(doc.Content) == 1 {
		d.node("", doc.Content[0], reflect.ValueOf(c).Elem())
	}
	return errors.Join(d.errs...)
}

// decoder walks a YAML document onto a Config.
type decoder struct {
	file string
	c    *Config
	errs []error
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	if key == "" {
		key = "the file"
	}
	d.errs = append(d.errs, fmt.Errorf("%s: %s (%s line %d)", key, fmt.Sprintf(format, args...), d.file, n.Line))
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "keys"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

// node sets v, found at key, from n.
func (d *decoder) node(key string, n *yaml.Node, v reflect.Value) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if key != "" {
		d.c.origin[key] = fmt.Sprintf("%s line %d", d.file, n.Line)
	}
	switch {
	case v.Kind() == reflect.Struct:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.errorf(n, key, "needs keys below it, not %s", describe(n))
			return
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			sub := joinKey(key, k.Value)
			if line, dup := seen[k.Value]; dup {
				d.errorf(k, sub, "given twice (also on line %d)", line)
				continue
			}
			seen[k.Value] = k.Line
			f, ok := field(v, k.Value)
			if !ok {
				d.errorf(k, sub, "unknown key%s", suggest(v.Type(), key, k.Value))
				continue
			}
			d.node(sub, val, f)
		}
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
		if isNull(n) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, key, "needs a list (items starting with -), not %s", describe(n))
			return
		}
		if len(n.Content) == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		list := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.node(fmt.Sprintf("%s[%d]", key, i), item, list.Index(i))
		}
		v.Set(list)
	case v.Kind() == reflect.Slice:
		if isNull(n) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		if n.Kind == yaml.ScalarNode {
			d.set(key, n, v, n.Value)
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, key, "needs a list, not %s", describe(n))
			return
		}
		var list []string
		for i, item := range n.Content {
			if item.Kind != yaml.ScalarNode || isNull(item) {
				d.errorf(item, fmt.Sprintf("%s[%d]", key, i), "needs a name, not %s", describe(item))
				continue
			}
			list = append(list, item.Value)
		}
		v.Set(reflect.ValueOf(list))
	default:
		switch {
		case n.Kind != yaml.ScalarNode:
			d.errorf(n, key, "needs a single value, not %s", describe(n))
		case isNull(n) && v.Kind() == reflect.String:
			v.SetString("")
		case isNull(n) && v.Kind() == reflect.Pointer:
			v.Set(reflect.Zero(v.Type()))
		case isNull(n):
			d.errorf(n, key, "has no value")
		default:
			d.set(key, n, v, n.Value)
		}
	}
}

func (d *decoder) set(key string, n *yaml.Node, v reflect.Value, s string) {
	if err := setText(v, s); err != nil {
		d.errorf(n, key, "%v", err)
	}
}

// suggest returns "; did you mean KEY?" for a key of the struct type t
// that name looks like a typo of, or "".
func suggest(t reflect.Type, prefix, name string) string {
	best, bestDist := "", 3
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	for i := range t.NumField() {
		cand := yamlName(t.Field(i))
		if cand == "" {
			continue
		}
		dist := editDistance(norm(name), norm(cand))
		if dist < bestDist {
			best, bestDist = cand, dist
		}
	}
	if best == "" {
		var names []string
		for i := range t.NumField() {
			if n := yamlName(t.Field(i)); n != "" {
				names = append(names, n)
			}
		}
		return "; the keys here are " + strings.Join(names, ", ")
	}
	return "; did you mean " + joinKey(prefix, best) + "?"
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

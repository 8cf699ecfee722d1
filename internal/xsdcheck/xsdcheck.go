// Package xsdcheck validates SOAP messages against the official ONVIF
// schemas in tests. It uses the offline WSDL/XSD set that lives beside the
// repository (../shared/onvif-wsdl, or the directory named by the
// CHINESIUM_ONVIF_WSDL environment variable), prepared once per test binary
// by that set's tools/onvif_xsd.py, and runs xmllint on each document.
//
// Like the shared tool's validate command, a document is checked twice: the
// whole envelope, and the first Body child as a stand-alone document,
// because soap:Body's content is processContents="lax" and an element in a
// wrong namespace would otherwise pass.
//
// The tools it needs (/usr/bin/python3 with python3-lxml, xmllint from
// libxml2-utils) are a test failure when missing in CI (CI=true) and a skip
// elsewhere.
package xsdcheck

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"
)

// EnvDir names the environment variable that overrides where the
// onvif-wsdl directory is.
const EnvDir = "CHINESIUM_ONVIF_WSDL"

// python is the interpreter the shared tool needs (Debian's, with lxml).
const python = "/usr/bin/python3"

const nsSOAP12 = "http://www.w3.org/2003/05/soap-envelope"
const nsSOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"

// ErrUnavailable is returned (wrapped) when the schemas or the tools to
// validate with are missing.
var ErrUnavailable = errors.New("xsdcheck: schema validation unavailable")

// Dir returns the onvif-wsdl directory: $CHINESIUM_ONVIF_WSDL if set,
// otherwise the first "shared/onvif-wsdl" found beside the module root or
// beside one of its parent directories.
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		if _, err := os.Stat(filepath.Join(d, "catalog.xml")); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %w", ErrUnavailable, EnvDir, d, err)
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(root)
		if up == root {
			root = wd // no go.mod: search from the working directory
			break
		}
		root = up
	}
	for d := root; ; {
		c := filepath.Join(d, "shared", "onvif-wsdl")
		if _, err := os.Stat(filepath.Join(c, "catalog.xml")); err == nil {
			return c, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", fmt.Errorf("%w: no shared/onvif-wsdl beside %s or its parents (set %s)", ErrUnavailable, root, EnvDir)
		}
		d = up
	}
}

// Validator validates documents against a prepared schema tree. It is safe
// for concurrent use.
type Validator struct {
	tree    string // prepared tree with all.xsd and catalog.xml
	schema  string // wrapper: all.xsd plus the SOAP 1.1 envelope schema
	xmllint string
}

var (
	prepOnce sync.Once
	prepVal  *Validator
	prepErr  error
)

// New prepares (once per process) the validation tree and returns a
// Validator. The error wraps ErrUnavailable when a tool or the schema set is
// missing.
func New() (*Validator, error) {
	prepOnce.Do(func() { prepVal, prepErr = prepare() })
	return prepVal, prepErr
}

func prepare() (*Validator, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		return nil, fmt.Errorf("%w: xmllint (libxml2-utils): %w", ErrUnavailable, err)
	}
	if _, err = os.Stat(python); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, python, err)
	}
	tool := filepath.Join(dir, "tools", "onvif_xsd.py")
	cmd := exec.Command(python, tool, "prepare", "--wsdl-dir", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if strings.Contains(msg, "No module named 'lxml'") {
			return nil, fmt.Errorf("%w: python3-lxml is not installed", ErrUnavailable)
		}
		return nil, fmt.Errorf("xsdcheck: %s prepare: %w: %s", tool, err, msg)
	}
	tree := strings.TrimSpace(string(out))
	if _, err = os.Stat(filepath.Join(tree, "all.xsd")); err != nil {
		return nil, fmt.Errorf("xsdcheck: prepared tree %q: %w", tree, err)
	}
	schema, err := writeWrapper(tree)
	if err != nil {
		return nil, err
	}
	return &Validator{tree: tree, schema: schema, xmllint: xmllint}, nil
}

// writeWrapper writes (once per prepared tree, atomically) a schema that
// imports the tree's all.xsd and the SOAP 1.1 envelope schema, so SOAP 1.1
// messages validate as well as SOAP 1.2 ones. It lives beside the prepared
// tree, which stays as the shared tool made it.
func writeWrapper(tree string) (string, error) {
	path := tree + "-chinesium-wrapper.xsd"
	content := `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:chinesium:xsdcheck" elementFormDefault="qualified">
  <xs:import namespace="urn:onvif-validation:all" schemaLocation="` + filepath.Join(tree, "all.xsd") + `"/>
  <xs:import namespace="` + nsSOAP11 + `" schemaLocation="` + filepath.Join(tree, "external", "soap-envelope-1.1.xsd") + `"/>
</xs:schema>
`
	if b, err := os.ReadFile(path); err == nil && string(b) == content {
		return path, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".xsdcheck-wrapper-*")
	if err != nil {
		return "", fmt.Errorf("xsdcheck: %w", err)
	}
	_, werr := f.WriteString(content)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("xsdcheck: %w", werr)
	}
	return path, nil
}

// Require returns the shared Validator, or ends the test: t.Fatal in CI
// (CI=true) or when preparing failed for another reason, t.Skip when only
// the tools or schemas are missing locally.
func Require(t testing.TB) *Validator {
	t.Helper()
	v, err := New()
	if err == nil {
		return v
	}
	if errors.Is(err, ErrUnavailable) && os.Getenv("CI") != "true" {
		t.Skipf("schema validation skipped locally: %v", err)
	}
	t.Fatalf("schema validation: %v", err)
	return nil
}

// Check validates doc with the shared Validator (see Require) and reports
// every problem with t.Errorf. expect is the expected Body child in Clark
// notation ("{ns}Name"), or "" to accept any.
func Check(t testing.TB, doc []byte, expect string) {
	t.Helper()
	if err := Require(t).Validate(doc, expect); err != nil {
		t.Errorf("%v\ndocument:\n%s", err, doc)
	}
}

// Validate checks one SOAP 1.2 or 1.1 message: the envelope whole and its
// first Body child stand-alone. expect, if
// not "", is the required Body child in Clark notation ("{ns}Name"). The
// error lists every problem xmllint reported.
func (v *Validator) Validate(doc []byte, expect string) error {
	return v.ValidateAll([]Doc{{XML: doc, Expect: expect}})[0]
}

// Doc is one message for ValidateAll.
type Doc struct {
	// Name labels the document in errors.
	Name string
	// XML is the whole SOAP message.
	XML []byte
	// Expect is the required Body child in Clark notation, or "".
	Expect string
}

// ValidateAll validates many messages with one xmllint run (compiling the
// schemas once), as Validate does each. The result has one error per
// document, nil for a valid one.
func (v *Validator) ValidateAll(docs []Doc) []error {
	errs := make([]error, len(docs))
	probs := make([][]string, len(docs))
	names := make([]string, len(docs))
	tmp, err := os.MkdirTemp("", "xsdcheck-")
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("xsdcheck: %w", err)
		}
		return errs
	}
	defer os.RemoveAll(tmp)

	type file struct {
		doc  int
		path string
		kind string // "envelope" or "body"
	}
	var files []file
	for i, d := range docs {
		name, fileList, p, err := prepareDoc(tmp, i, d)
		names[i] = name
		if err != nil {
			errs[i] = err
			continue
		}
		probs[i] = p
		for _, f := range fileList {
			files = append(files, file{doc: i, path: f[0], kind: f[1]})
		}
	}
	if len(files) > 0 {
		args := []string{"--nonet", "--noout", "--schema", v.schema}
		for _, f := range files {
			args = append(args, f.path)
		}
		cmd := exec.Command(v.xmllint, args...)
		cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+filepath.Join(v.tree, "catalog.xml"))
		out, runErr := cmd.CombinedOutput()
		lines := strings.Split(string(out), "\n")
		for _, f := range files {
			valid := false
			for _, line := range lines {
				rest, ok := strings.CutPrefix(line, f.path)
				if !ok || (rest != "" && rest[0] != ':' && rest[0] != ' ') {
					continue
				}
				if rest == " validates" {
					valid = true
					continue
				}
				probs[f.doc] = append(probs[f.doc], f.kind+rest)
			}
			if !valid && len(probs[f.doc]) == 0 {
				probs[f.doc] = append(probs[f.doc], fmt.Sprintf("%s: xmllint: %v: %s", f.kind, runErr, out))
			}
		}
	}
	for i := range docs {
		if errs[i] == nil && len(probs[i]) > 0 {
			errs[i] = fmt.Errorf("xsdcheck: %s invalid:\n  %s", names[i], strings.Join(probs[i], "\n  "))
		}
	}
	return errs
}

// prepareDoc checks the structure of document i, writes the files to
// validate into dir and returns its label, the files (path, kind) and the
// problems found so far.
func prepareDoc(dir string, i int, d Doc) (name string, files [][2]string, probs []string, err error) {
	name = d.Name
	doc := d.XML
	if len(doc) == 0 || doc[0] != '<' {
		probs = append(probs, "document does not start with '<' (whitespace or BOM before the XML declaration)")
	}
	x := etree.NewDocument()
	if err = x.ReadFromBytes(doc); err != nil {
		return name, nil, nil, fmt.Errorf("xsdcheck: %s: not well-formed XML: %w", name, err)
	}
	root := x.Root()
	if root == nil || root.Tag != "Envelope" {
		return name, nil, nil, fmt.Errorf("xsdcheck: %s: root element is not a SOAP Envelope", name)
	}
	envNS := root.NamespaceURI()
	if envNS != nsSOAP12 && envNS != nsSOAP11 {
		return name, nil, nil, fmt.Errorf("xsdcheck: %s: unknown envelope namespace %q", name, envNS)
	}
	var body *etree.Element
	for _, c := range root.ChildElements() {
		if c.Tag == "Body" && c.NamespaceURI() == envNS {
			body = c
		}
	}
	if body == nil || len(body.ChildElements()) == 0 {
		return name, nil, nil, fmt.Errorf("xsdcheck: %s: no SOAP Body child", name)
	}
	child := body.ChildElements()[0]
	got := "{" + child.NamespaceURI() + "}" + child.Tag
	if name == "" {
		name = got
	}
	if d.Expect != "" && got != d.Expect {
		probs = append(probs, fmt.Sprintf("body element is %s, expected %s", got, d.Expect))
	}
	standalone, err := Standalone(child)
	if err != nil {
		return name, nil, nil, err
	}
	bodyPath := filepath.Join(dir, fmt.Sprintf("body-%d.xml", i))
	if err := os.WriteFile(bodyPath, standalone, 0o600); err != nil {
		return name, nil, nil, fmt.Errorf("xsdcheck: %w", err)
	}
	files = append(files, [2]string{bodyPath, "body"})
	{
		envPath := filepath.Join(dir, fmt.Sprintf("envelope-%d.xml", i))
		if err := os.WriteFile(envPath, doc, 0o600); err != nil {
			return name, nil, nil, fmt.Errorf("xsdcheck: %w", err)
		}
		files = append(files, [2]string{envPath, "envelope"})
	}
	return name, files, probs, nil
}

// Batch collects documents during a test and validates them in one
// xmllint run when the test ends (much faster than one run each).
type Batch struct {
	t    testing.TB
	mu   sync.Mutex
	docs []Doc
}

// NewBatch returns a Batch that validates its documents in t.Cleanup and
// reports each invalid one with t.Errorf. Like Require, it skips or fails
// the test when validation is unavailable.
func NewBatch(t testing.TB) *Batch {
	t.Helper()
	v := Require(t)
	b := &Batch{t: t}
	t.Cleanup(func() {
		b.mu.Lock()
		docs := b.docs
		b.mu.Unlock()
		for i, err := range v.ValidateAll(docs) {
			if err != nil {
				t.Errorf("%v\ndocument:\n%s", err, docs[i].XML)
			}
		}
	})
	return b
}

// Add queues doc for validation; expect is as for Validate.
func (b *Batch) Add(doc []byte, expect string) {
	b.mu.Lock()
	b.docs = append(b.docs, Doc{XML: append([]byte(nil), doc...), Expect: expect})
	b.mu.Unlock()
}

// Standalone serializes e as a document of its own, with every namespace
// declaration in scope at e copied onto it.
func Standalone(e *etree.Element) ([]byte, error) {
	c := WithNamespaces(e)
	d := etree.NewDocument()
	d.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	d.SetRoot(c)
	b, err := d.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("xsdcheck: %w", err)
	}
	return b, nil
}

// WithNamespaces returns a deep copy of e carrying every namespace
// declaration in scope at e, so it keeps its meaning outside its document.
func WithNamespaces(e *etree.Element) *etree.Element {
	c := e.Copy()
	declared := map[string]bool{}
	for _, a := range c.Attr {
		switch {
		case a.Space == "xmlns":
			declared[a.Key] = true
		case a.Space == "" && a.Key == "xmlns":
			declared[""] = true
		}
	}
	for p := e.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			switch {
			case a.Space == "xmlns" && !declared[a.Key]:
				declared[a.Key] = true
				c.CreateAttr("xmlns:"+a.Key, a.Value)
			case a.Space == "" && a.Key == "xmlns" && !declared[""]:
				declared[""] = true
				c.CreateAttr("xmlns", a.Value)
			}
		}
	}
	return c
}

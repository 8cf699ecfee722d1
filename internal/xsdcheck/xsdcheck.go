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
	if _, err := os.Stat(python); err != nil {
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
	if _, err := os.Stat(filepath.Join(tree, "all.xsd")); err != nil {
		return nil, fmt.Errorf("xsdcheck: prepared tree %q: %w", tree, err)
	}
	return &Validator{tree: tree, xmllint: xmllint}, nil
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

// Validate checks one SOAP message. A SOAP 1.2 envelope is validated whole
// and its first Body child stand-alone; for a SOAP 1.1 envelope (whose
// schema the set does not hold) only the Body child is validated. expect, if
// not "", is the required Body child in Clark notation ("{ns}Name"). The
// error lists every problem xmllint reported.
func (v *Validator) Validate(doc []byte, expect string) error {
	var probs []string
	if len(doc) == 0 || doc[0] != '<' {
		probs = append(probs, "document does not start with '<' (whitespace or BOM before the XML declaration)")
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return fmt.Errorf("xsdcheck: not well-formed XML: %w", err)
	}
	root := d.Root()
	if root == nil || root.Tag != "Envelope" {
		return errors.New("xsdcheck: root element is not a SOAP Envelope")
	}
	envNS := root.NamespaceURI()
	if envNS != nsSOAP12 && envNS != nsSOAP11 {
		return fmt.Errorf("xsdcheck: unknown envelope namespace %q", envNS)
	}
	var body *etree.Element
	for _, c := range root.ChildElements() {
		if c.Tag == "Body" && c.NamespaceURI() == envNS {
			body = c
		}
	}
	if body == nil || len(body.ChildElements()) == 0 {
		return errors.New("xsdcheck: no SOAP Body child")
	}
	child := body.ChildElements()[0]
	got := "{" + child.NamespaceURI() + "}" + child.Tag
	if expect != "" && got != expect {
		probs = append(probs, fmt.Sprintf("body element is %s, expected %s", got, expect))
	}
	standalone, err := Standalone(child)
	if err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "xsdcheck-")
	if err != nil {
		return fmt.Errorf("xsdcheck: %w", err)
	}
	defer os.RemoveAll(tmp)
	envPath := filepath.Join(tmp, "envelope.xml")
	bodyPath := filepath.Join(tmp, "body.xml")
	files := []string{bodyPath}
	if envNS == nsSOAP12 {
		files = append(files, envPath)
		if err := os.WriteFile(envPath, doc, 0o600); err != nil {
			return fmt.Errorf("xsdcheck: %w", err)
		}
	}
	if err := os.WriteFile(bodyPath, standalone, 0o600); err != nil {
		return fmt.Errorf("xsdcheck: %w", err)
	}
	args := append([]string{"--nonet", "--noout", "--schema", filepath.Join(v.tree, "all.xsd")}, files...)
	cmd := exec.Command(v.xmllint, args...)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+filepath.Join(v.tree, "catalog.xml"))
	out, runErr := cmd.CombinedOutput()
	valid := 0
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, tmp) {
			continue // schema parser warnings
		}
		if strings.HasSuffix(line, " validates") {
			valid++
			continue
		}
		line = strings.Replace(line, envPath, "envelope", 1)
		line = strings.Replace(line, bodyPath, "body", 1)
		probs = append(probs, line)
	}
	if valid != len(files) && len(probs) == 0 {
		probs = append(probs, fmt.Sprintf("xmllint: %v: %s", runErr, out))
	}
	if len(probs) > 0 {
		return fmt.Errorf("xsdcheck: %s invalid:\n  %s", got, strings.Join(probs, "\n  "))
	}
	return nil
}

// Standalone serializes e as a document of its own, with every namespace
// declaration in scope at e copied onto it.
func Standalone(e *etree.Element) ([]byte, error) {
	c := e.Copy()
	declared := map[string]bool{}
	for _, a := range c.Attr {
		if a.Space == "xmlns" {
			declared[a.Key] = true
		} else if a.Space == "" && a.Key == "xmlns" {
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
	d := etree.NewDocument()
	d.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	d.SetRoot(c)
	b, err := d.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("xsdcheck: %w", err)
	}
	return b, nil
}

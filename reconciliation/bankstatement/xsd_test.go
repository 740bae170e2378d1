package bankstatement

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// schemaDir holds the official ISO 20022 schemas, outside the module.
const schemaDir = "../../../shared/iso20022"

// TestFixturesValidateAgainstSchemas checks that the XML fixtures are real
// ISO 20022 messages, not look-alikes, by validating each with xmllint
// against its official schema.
func TestFixturesValidateAgainstSchemas(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint is not on PATH (Debian: apt-get install libxml2-utils); fixtures not validated against the ISO 20022 schemas")
	}
	for fixture, schema := range map[string]string{
		"camt053_v2.xml": "camt.053.001.02.xsd",
		"camt053_v8.xml": "camt.053.001.08.xsd",
		"camt054_v2.xml": "camt.054.001.02.xsd",
		"camt054_v8.xml": "camt.054.001.08.xsd",
	} {
		xsd := filepath.Join(schemaDir, schema)
		if _, err := os.Stat(xsd); err != nil {
			t.Skipf("schema %s not found (%v); fixtures not validated against the ISO 20022 schemas", xsd, err)
		}
		out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, filepath.Join("testdata", fixture)).CombinedOutput()
		if err != nil {
			t.Errorf("%s does not validate against %s: %v\n%s", fixture, schema, err, out)
		}
	}
}

package main

import (
	"os"
	"testing"
)

// A test binary is built without -trimpath: the check must say so.
func TestABinaryWithoutTrimpathFails(t *testing.T) {
	self, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	findings := checkTrimpath(self)
	if len(findings) != 1 || findings[0].Rule != rule {
		t.Fatalf("want one %s finding, got %+v", rule, findings)
	}
}

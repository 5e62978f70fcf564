//go:build !wasip1

package gohook

// Outside wasm (go test on the author's machine) there is no host: logs go to stderr, settings are TestSettings,
// and artifacts are files (NewArtifact).

import (
	"errors"
	"fmt"
	"os"
)

// TestSettings is what Settings decodes outside wasm.
var TestSettings = "{}"

func hostLogString(level LogLevel, message string) {
	fmt.Fprintf(os.Stderr, "[%d] %s\n", level, message)
}

func hostSettingsString() string { return TestSettings }

func artifactSize(int32) int64 { return 0 }

func artifactPathString(int32) string { return "" }

func artifactReadInto(int32, int64, []byte) (int, error) {
	return 0, errors.New("gohook: outside wasm an artifact needs NewArtifact")
}

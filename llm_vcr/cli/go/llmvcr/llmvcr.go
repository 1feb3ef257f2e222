// Package llmvcr gives each Go test its own llm-vcr recordings folder: call llmvcr.Scope(t) first in
// a test run under `llm-vcr run -- go test ./...`. Copy this file into your module (`llm-vcr
// go-helper` prints its path); it needs only the standard library.
//
// The test binary's process is bound to the scope "<package dir>::<test name>" through the proxy's
// control API, so every connection it (or a child process) opens belongs to the test, whatever HTTP
// client it uses. Packages run in parallel (go test -p N) are separate processes: safe. Tests that
// call t.Parallel() share a process: give each its own scope with the x-llm-vcr-scope header instead.
// After the test, a test whose LLM calls missed fails with the miss message.
package llmvcr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Scope binds the test's LLM calls to its own recordings; a no-op outside `llm-vcr run`.
func Scope(t testing.TB) {
	t.Helper()
	proxy := os.Getenv("LLM_VCR_PROXY")
	if proxy == "" {
		return
	}
	name := t.Name()
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(os.Getenv("LLM_VCR_CWD"), wd); err == nil && !strings.HasPrefix(rel, "..") {
			name = filepath.ToSlash(rel) + "::" + name
		}
	}
	if _, err := call(proxy, http.MethodPost, name); err != nil {
		t.Fatalf("llm-vcr: %v", err)
	}
	t.Cleanup(func() {
		summary, err := call(proxy, http.MethodDelete, name)
		if err != nil {
			t.Errorf("llm-vcr: %v", err)
			return
		}
		if summary.Misses > 0 {
			t.Errorf("llm-vcr: %d LLM calls of this test missed (scope %s):\n%s", summary.Misses, name,
				strings.Join(summary.Messages, "\n\n"))
		}
	})
}

type summary struct {
	Misses   int      `json:"misses"`
	Messages []string `json:"messages"`
}

func call(proxy, method, scope string) (summary, error) {
	var s summary
	body, _ := json.Marshal(map[string]any{"scope": scope, "pid": os.Getpid()})
	req, err := http.NewRequest(method, strings.TrimRight(proxy, "/")+"/__llm-vcr/scope", bytes.NewReader(body))
	if err != nil {
		return s, err
	}
	req.Header.Set("content-type", "application/json")
	client := &http.Client{Transport: &http.Transport{Proxy: nil}} // the proxy's own API: never via a proxy
	resp, err := client.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("the proxy refused scope %q: status %d", scope, resp.StatusCode)
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

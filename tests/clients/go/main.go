// Test client: Go net/http only. Knows nothing about llm-vcr.
// Proxy and CA come from the environment (HTTPS_PROXY, SSL_CERT_FILE) through http.DefaultTransport.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	base := strings.TrimRight(os.Getenv("OPENAI_BASE_URL"), "/")
	if base == "" {
		fail("OPENAI_BASE_URL is not set")
	}
	dir := filepath.Join(filepath.Dir(os.Args[0]), "..", "requests")
	if d := os.Getenv("CLIENT_REQUESTS"); d != "" {
		dir = d
	}
	client := &http.Client{Timeout: 60 * time.Second}
	for _, name := range []string{"stream", "tool_stream", "chat", "embeddings"} {
		body, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			fail(err.Error())
		}
		path := "/chat/completions"
		if name == "embeddings" {
			path = "/embeddings"
		}
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+os.Getenv("OPENAI_API_KEY"))
		resp, err := client.Do(req)
		if err != nil {
			fail(err.Error())
		}
		fmt.Println(name, "STATUS", resp.StatusCode)
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1024*1024), 16*1024*1024) // long data: lines (tool arguments)
			for sc.Scan() {
				line := sc.Text()
				if !strings.HasPrefix(line, "data:") {
					continue
				}
				data := strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
				if data == "[DONE]" {
					fmt.Println(name, "DONE")
				} else {
					fmt.Println(name, "DATA", data)
				}
			}
		} else {
			all, _ := io.ReadAll(resp.Body)
			fmt.Println(name, "BODY", strings.ReplaceAll(string(all), "\n", ""))
		}
		resp.Body.Close()
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "go client:", msg)
	os.Exit(1)
}

// Command testapp is the process the devcluster end-to-end test runs on the local node: it
// serves /readyz and /healthz, reports its args and env at /info, and exits on /exit.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	port := flag.Int("port", 8080, "port")
	data := flag.String("data", "", "a file to create, to show the volume is writable")
	flag.String("device", "", "ignored; reported in /info")
	flag.Parse()
	if *data != "" {
		if err := os.WriteFile(*data, []byte("ok"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "write data:", err)
			os.Exit(2)
		}
	}
	http.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	http.HandleFunc("/info", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"args": os.Args[1:], "env": os.Environ(), "pid": os.Getpid()})
	})
	http.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		fmt.Fprintln(w, "bye")
		go func() {
			time.Sleep(100 * time.Millisecond)
			fmt.Fprintf(os.Stderr, "testapp: exiting with code %d as asked\n", code)
			os.Exit(code)
		}()
	})
	fmt.Fprintf(os.Stderr, "testapp: listening on :%d\n", *port)
	if err := http.ListenAndServe(fmt.Sprintf("127.0.0.1:%d", *port), nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Command trivialserver is the loopback server of the load-test engine
// benchmarks: it answers every request with a fixed small JSON body, so what
// is measured is the client. It runs as its own process so that wrk, hey and
// challengectl all hit the same server, sharing the machine's cores the same
// way.
//
//	go run ./internal/loadtest/bench/trivialserver -addr 127.0.0.1:8099
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// The first line of stdout is the address, for harnesses that pick port 0.
	fmt.Println(ln.Addr().String())
	body := []byte(`{"status":"ok"}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		_, _ = w.Write(body)
	})
	srv := &http.Server{Handler: h}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

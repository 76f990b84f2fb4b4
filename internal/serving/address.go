package serving

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// disabledAddress is the address value that turns a server off.
const disabledAddress = "0"

// ValidateAddress checks a listen address given on the command line: "0",
// which disables the server, or host:port with a numeric port from 0 to
// 65535, such as ":8080", "127.0.0.1:8080" or "[::1]:8080". Service names
// such as ":http" are refused: a port that depends on /etc/services would
// differ between machines and container images.
func ValidateAddress(addr string) error {
	if addr == disabledAddress {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		example := ":8080"
		if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
			example = ":" + addr
		}
		return fmt.Errorf("%q is not host:port (use %q to listen on every address, or 0 to disable)", addr, example)
	}
	if port == "" {
		return fmt.Errorf("%q has no port after the colon (use port 0 for any free port)", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("port %s in %q is out of range: ports go from 0 to 65535", port, addr)
		}
		return fmt.Errorf("port %q in %q is not a number", port, addr)
	}
	return nil
}

package serving

import "testing"

func TestValidateAddress(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr string
	}{
		{addr: "0"},
		{addr: ":8080"},
		{addr: ":0"},
		{addr: "127.0.0.1:8080"},
		{addr: "localhost:65535"},
		{addr: "[::1]:8080"},
		{addr: "8080", wantErr: `"8080" is not host:port (use ":8080" to listen on every address, or 0 to disable)`},
		{addr: "localhost", wantErr: `"localhost" is not host:port (use ":8080" to listen on every address, or 0 to disable)`},
		{addr: "", wantErr: `"" is not host:port (use ":8080" to listen on every address, or 0 to disable)`},
		{addr: "::1:8080", wantErr: `"::1:8080" is not host:port (use ":8080" to listen on every address, or 0 to disable)`},
		{addr: "127.0.0.1:", wantErr: `"127.0.0.1:" has no port after the colon (use port 0 for any free port)`},
		{addr: ":http", wantErr: `port "http" in ":http" is not a number`},
		{addr: ":-1", wantErr: `port "-1" in ":-1" is not a number`},
		{addr: "host:99999", wantErr: `port 99999 in "host:99999" is out of range: ports go from 0 to 65535`},
	}
	for _, tt := range tests {
		err := ValidateAddress(tt.addr)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ValidateAddress(%q) = %v, want nil", tt.addr, err)
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
			t.Errorf("ValidateAddress(%q) = %v, want %s", tt.addr, err, tt.wantErr)
		}
	}
}

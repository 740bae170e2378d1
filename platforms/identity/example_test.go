package identity_test

import (
	"bytes"
	"fmt"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

// A platform registers a worker with a Malaysian NRIC: the number is
// validated, keyed and sealed, and only the key and the sealed bytes are kept.
func Example() {
	// In production both come from configuration, read in cmd/.
	keyer, _ := identity.NewKeyer(identity.KeyerConfig{Secret: bytes.Repeat([]byte{7}, 32)})
	sealer, _ := identity.NewSealer(identity.SealerConfig{Keys: map[byte][]byte{1: bytes.Repeat([]byte{9}, 32)}, KeyID: 1})

	id, err := identity.Normalize("MY", "770305-02-1234")
	if err != nil {
		fmt.Println(err)
		return
	}
	workerKey := keyer.Key("MY", id)
	sealed, _ := sealer.Seal(workerKey, id)

	fmt.Println("worker key:", len(workerKey), "hex characters")
	fmt.Println("staff see:", identity.Mask(id))

	opened, _ := sealer.Open(workerKey, sealed)
	fmt.Println("opened for the insurer:", identity.Redact(opened))
	// Output:
	// worker key: 64 hex characters
	// staff see: ********1234
	// opened for the insurer: ********1234
}

// Each failure kind has its own code; the message never repeats the number.
func ExampleNormalize_errors() {
	for _, raw := range []string{"360426199101010072", "360426199113010079", "3604261991010100"} {
		_, err := identity.Normalize("CN", raw)
		d := err.(*gateway.Error).Details[0]
		fmt.Printf("%s: %s\n", d.Code, d.Message)
	}
	// Output:
	// bad_check_digit: the check character of a Chinese resident ID does not match
	// bad_birth_date: the birth date in a Chinese resident ID is not a valid date
	// bad_length: a Chinese resident ID has 18 characters
}

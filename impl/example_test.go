package impl_test

import (
	"fmt"
	"os"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "sessions")
	defer os.RemoveAll(dir)
	store, err := impl.Open(dir, impl.Options{Secret: []byte("keep this secret")})
	if err != nil {
		fmt.Println(err)
		return
	}
	key, _ := store.Create(model.NewValues(map[string]string{"user": "42"}), time.Now().Add(time.Hour))
	rec, _ := store.Load(key)
	fmt.Println(rec.Values)
	_ = store.Delete(key)
	_, err = store.Load(key)
	fmt.Println(err != nil && model.OutcomeOf(err) == model.NotFound)
	// Output:
	// {"user"="42"}
	// true
}

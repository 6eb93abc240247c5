package ledger

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The result an idempotent request stores, so that a replay returns it, is
// written in the binary form of resultcodec.go (version 2). Two older forms
// are still read: JSON compressed with zstd against a dictionary of
// typical results (version 1, about 250 bytes a result) and, before that,
// plain JSON, which starts with '{'.

// resultDictV1 is the dictionary of results stored with dictionary id 1.
// It must never change: stored results need it to be read. A better
// dictionary is added under a new id, and this one kept.
//
//go:embed result_dict_v1.txt
var resultDictV1 []byte

const resultDictID = 1

var (
	resultDecoderOnce sync.Once
	resultDecoder     *zstd.Decoder
	resultDecoderErr  error
)

// resultV1Decoder decompresses version 1 results.
func resultV1Decoder() (*zstd.Decoder, error) {
	resultDecoderOnce.Do(func() {
		resultDecoder, resultDecoderErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderDictRaw(resultDictID, resultDictV1))
	})
	return resultDecoder, resultDecoderErr
}

// decodeResult reads a stored result in any of the forms ever stored.
func decodeResult(b []byte, res *Result) error {
	switch {
	case len(b) == 0:
		return errResultCorrupt
	case b[0] == resultV2:
		return decodeResultV2(b, res)
	case b[0] == '{':
		return json.Unmarshal(b, res)
	}
	dec, err := resultV1Decoder()
	if err != nil {
		return err
	}
	if b, err = dec.DecodeAll(b, nil); err != nil {
		return fmt.Errorf("decompressing: %w", err)
	}
	return json.Unmarshal(b, res)
}

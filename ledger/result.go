package ledger

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The result an idempotent request stores, so that a replay returns it, is
// JSON compressed with zstd against a dictionary of typical results: about
// 1.4 KB of JSON a request becomes about 250 bytes, and the requests table
// had been two thirds of a database. Results stored before, plain JSON,
// start with '{' and are read as they are.

// resultDictV1 is the dictionary of results stored with dictionary id 1.
// It must never change: stored results need it to be read. A better
// dictionary is added under a new id, and this one kept.
//
//go:embed result_dict_v1.txt
var resultDictV1 []byte

const resultDictID = 1

var (
	resultCodecOnce sync.Once
	resultEncoder   *zstd.Encoder
	resultDecoder   *zstd.Decoder
	resultCodecErr  error
)

func resultCodec() (*zstd.Encoder, *zstd.Decoder, error) {
	resultCodecOnce.Do(func() {
		resultEncoder, resultCodecErr = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(1), zstd.WithEncoderDictRaw(resultDictID, resultDictV1))
		if resultCodecErr != nil {
			return
		}
		resultDecoder, resultCodecErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderDictRaw(resultDictID, resultDictV1))
	})
	return resultEncoder, resultDecoder, resultCodecErr
}

// encodeResult is the stored form of a result.
func encodeResult(res *Result) ([]byte, error) {
	js, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	enc, _, err := resultCodec()
	if err != nil {
		return nil, err
	}
	return enc.EncodeAll(js, make([]byte, 0, len(js)/4)), nil
}

// decodeResult reads a stored result, compressed or (stored before
// compression) plain JSON.
func decodeResult(b []byte, res *Result) error {
	if len(b) > 0 && b[0] != '{' {
		_, dec, err := resultCodec()
		if err != nil {
			return err
		}
		if b, err = dec.DecodeAll(b, nil); err != nil {
			return fmt.Errorf("decompressing: %w", err)
		}
	}
	return json.Unmarshal(b, res)
}

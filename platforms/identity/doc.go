// Package identity validates, keys and protects workers' national ID numbers.
//
// A worker is identified across platforms by a national ID from one of the
// supported countries (Countries): the Chinese resident ID, the Malaysian
// MyKad NRIC, the Korean resident registration number, the Belgian NISS
// (national register or bis number), the Indian Aadhaar, the Singapore
// NRIC/FIN and the Chilean RUT. Each country's file states the layout and
// the checks applied.
//
// # Flow
//
//  1. Normalize(country, raw) removes separators, upper-cases letters and
//     checks length, characters, prefix, place code, birth date and check
//     digit. A rejected number gets a *gateway.Error naming Field with one
//     Code constant per failure kind.
//  2. Keyer.Key(country, normalised) derives the worker key,
//     HMAC-SHA256 under a configured secret. The worker key is what the rest
//     of the gateway stores, joins on, partitions Kafka by and shows.
//  3. Sealer.Seal(workerKey, normalised) encrypts the number with
//     AES-256-GCM for the one place that needs it back (reports to the
//     insurer). The worker key is bound as additional authenticated data, so
//     a sealed value cannot be moved to another worker's row.
//
// # Privacy rules
//
//   - A national ID is personal data. After step 3 only the worker key and
//     the sealed value are kept; the raw number is not stored, logged,
//     traced, put in a Kafka message, or returned to a platform.
//   - Error messages from this package never contain the number or any part
//     of it, so validation errors may be logged and returned as they are.
//     Callers must not add the input to them.
//   - Staff see a number only through Mask or Redacted, which show its last
//     two to four characters. Keep an opened number in a Redacted while it is
//     carried around, so that an accidental log line prints the masked form.
//   - The Keyer secret and Sealer keys come from configuration, never from
//     code or the database. The Keyer secret cannot be rotated without
//     re-keying every worker; Sealer keys rotate by key id (SealerConfig).
package identity

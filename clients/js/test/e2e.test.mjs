// Parley E2E v1 in the JS SDK against the vectors the Python client was checked against
// (tests/fixtures/e2e_vectors.json, made by tools/e2e_vectors.py): same bytes in, same bytes out, so the two
// clients read each other. No stack needed. Given / when / then.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import sodium from "libsodium-wrappers";
import {
  E2EError, NoKeyError, TamperedMessageError, UnknownDeviceError, WrongKeyError, construction, previewOf,
  withoutMetadata,
} from "../dist/e2e.js";

await sodium.ready;
const vectors = JSON.parse(readFileSync(new URL("../../../tests/fixtures/e2e_vectors.json", import.meta.url), "utf8"));
const B64 = sodium.base64_variants.ORIGINAL;
const bytes = (b64) => sodium.from_base64(b64, B64);
const b64 = (data) => sodium.to_base64(data, B64);
const device = (deviceId) => vectors.devices.find((d) => d.deviceId === deviceId);
const messageNamed = (label) => vectors.messages.find((m) => m.label === label);

function identitySecret(deviceId) {
  return sodium.crypto_sign_seed_keypair(bytes(device(deviceId).identitySeed)).privateKey;
}

function opener(deviceId) {
  const d = device(deviceId);
  return { userId: d.userId, deviceId, prekey: (id) => (id === d.prekeyId ? bytes(d.prekeySecret) : undefined) };
}

function sealVector(vector) {
  const recipients = vector.envelope.k.map((entry) => ({ userId: entry.u, deviceId: entry.d, prekeyId: entry.p,
    prekey: bytes(device(entry.d).prekey) }));
  const ephemeralSecret = bytes(vector.ephemeralSecret);
  return construction.seal(vector.conversationId,
    { userId: vector.senderUserId, deviceId: vector.senderDeviceId, identitySecret: identitySecret(vector.senderDeviceId) },
    recipients, JSON.parse(vector.payload), {
      messageKey: bytes(vector.messageKey),
      ephemeral: { publicKey: sodium.crypto_scalarmult_base(ephemeralSecret), privateKey: ephemeralSecret },
      nonce: bytes(vector.nonce),
      keyNonces: vector.envelope.k.map((entry) => bytes(vector.wrapNonces[entry.d])),
    });
}

describe("Parley E2E v1: the shared vectors", () => {
  test("every device's identity key and prekey signature come out as the vectors say", () => {
    for (const d of vectors.devices) {
      // given the device's fixed seed and prekey secret
      const identity = sodium.crypto_sign_seed_keypair(bytes(d.identitySeed));
      const prekey = sodium.crypto_scalarmult_base(bytes(d.prekeySecret));
      // when the JS SDK derives its public keys and signs its prekey
      const sig = construction.signPrekey(identity.privateKey, d.deviceId, d.prekeyId, prekey);
      // then they are the Python client's, byte for byte, and the signature verifies
      assert.equal(b64(identity.publicKey), d.identityKey);
      assert.equal(b64(prekey), d.prekey);
      assert.equal(sig, d.prekeySig);
      assert.ok(construction.prekeySignatureValid(d.identityKey, d.deviceId, d.prekeyId, d.prekey, d.prekeySig));
      assert.equal(construction.prekeySignatureValid(d.identityKey, d.deviceId, d.prekeyId + 1, d.prekey, d.prekeySig),
        false);
    }
  });

  for (const vector of vectors.messages) {
    test(`the ${vector.label} envelope is sealed byte for byte as the vector's`, () => {
      // given the vector's keys, nonces and payload
      // when the JS SDK seals it
      const envelope = sealVector(vector);
      // then the signature input, the ciphertext, the signature and every wrapped key are the same
      assert.equal(sodium.to_string(construction.signatureInput(vector.conversationId, vector.senderUserId, envelope)),
        vector.signatureInput);
      assert.equal(envelope.c, vector.c);
      assert.equal(envelope.sig, vector.sig);
      assert.deepEqual(envelope, vector.envelope);
    });

    test(`every recipient device of the ${vector.label} vector opens it to its payload`, () => {
      for (const entry of vector.envelope.k) {
        // given a recipient device holding its prekey
        // when it opens the vector's envelope
        const payload = construction.open(vector.conversationId, vector.senderUserId,
          device(vector.senderDeviceId).identityKey, vector.envelope, opener(entry.d));
        // then it reads the sender's payload
        assert.deepEqual(payload, JSON.parse(vector.payload));
      }
    });
  }

  for (const rejection of vectors.rejections) {
    test(`a rejected envelope (${rejection.description}) fails with ${rejection.code}`, () => {
      // given an envelope the vectors say must be refused
      const vector = messageNamed(rejection.message);
      // when the receiving device opens it
      // then it fails with the typed error of that code, and no text
      assert.throws(() => construction.open(vector.conversationId, vector.senderUserId,
        device(vector.senderDeviceId).identityKey, rejection.envelope, opener(rejection.receiverDeviceId)),
      (error) => error instanceof E2EError && error.code === rejection.code);
    });
  }

  test("an encrypted file blob is the vector's, and opens back to the file", () => {
    for (const file of vectors.files) {
      // given the vector's file key and nonce
      // when the file is sealed, then opened
      const { blob } = construction.sealFile(bytes(file.plaintext), { fileKey: bytes(file.fileKey),
        nonce: bytes(file.nonce) });
      // then the blob is byte for byte the vector's, and it opens to the file
      assert.equal(b64(blob), file.blob);
      assert.equal(b64(construction.openFile(bytes(file.blob), file.fileKey)), file.plaintext);
    }
  });

  test("safety numbers, fingerprints and QR payloads are the vectors', whichever user computes them", () => {
    for (const sn of vectors.safetyNumbers) {
      // given two users and their devices' identity keys
      const a = { userId: sn.userA, identityKeys: sn.keysA };
      const b = { userId: sn.userB, identityKeys: sn.keysB };
      // when both sides compute the safety number and the QR payload
      // then both get the vectors' (the users are ordered by id), and the fingerprints match
      assert.equal(construction.safetyNumber(a, b), sn.safetyNumber);
      assert.equal(construction.safetyNumber(b, a), sn.safetyNumber);
      assert.equal(construction.safetyQr(a, b), sn.qr);
      assert.equal(construction.safetyQr(b, a), sn.qr);
      assert.equal(b64(construction.fingerprint(sn.userA, [...sn.keysA].reverse())), sn.fingerprintA);
      assert.equal(b64(construction.fingerprint(sn.userB, sn.keysB)), sn.fingerprintB);
    }
  });
});

describe("Parley E2E v1: what a receiving device refuses", () => {
  const vector = messageNamed("direct");
  const bob = "bob-phone-00000001";
  const openAs = (envelope, { deviceId = bob, identityKey = device(vector.senderDeviceId).identityKey } = {}) =>
    construction.open(vector.conversationId, vector.senderUserId, identityKey, envelope, opener(deviceId));

  test("a ciphertext changed on the way is a TamperedMessageError", () => {
    // given the direct message with one character of its ciphertext replaced
    const c = vector.envelope.c;
    const envelope = { ...vector.envelope, c: (c[0] === "A" ? "B" : "A") + c.slice(1) };
    // when bob opens it, then it is refused as tampered
    assert.throws(() => openAs(envelope), TamperedMessageError);
  });

  test("an envelope signed by another device's key is a TamperedMessageError", () => {
    // given the direct message checked against alice's other device's identity key
    // when bob opens it, then it is refused as tampered
    assert.throws(() => openAs(vector.envelope, { identityKey: device("alice-laptop-0002").identityKey }),
      TamperedMessageError);
  });

  test("a wrapped key for another device is a WrongKeyError, a missing one a NoKeyError", () => {
    // given bob's entry carrying the wrapped key of alice's phone
    const mine = vector.envelope.k.find((k) => k.d === bob);
    const other = vector.envelope.k.find((k) => k.d === "alice-phone-0001");
    const swapped = { ...vector.envelope, k: [{ ...mine, w: other.w, n: other.n }] };
    // when bob opens it, then the key does not open; and with no entry for bob there is no key
    assert.throws(() => openAs(swapped), WrongKeyError);
    assert.throws(() => openAs({ ...vector.envelope, k: [other] }), NoKeyError);
  });

  test("the same envelope in another conversation does not verify", () => {
    // given the direct message relayed into another conversation
    // when bob opens it there, then it is refused as tampered (the conversation is signed)
    assert.throws(() => construction.open("another-conversation", vector.senderUserId,
      device(vector.senderDeviceId).identityKey, vector.envelope, opener(bob)), TamperedMessageError);
  });

  test("every failure is an E2EError with a stable code, and a removed device has its own", () => {
    // given the typed errors
    // then each has its code, and all share the base class apps catch
    assert.equal(new UnknownDeviceError("x").code, "e2e_unknown_device");
    assert.ok(new UnknownDeviceError("x") instanceof E2EError);
  });
});

test("a photo's preview is made on the device where the platform can draw (browsers), not in Node", async () => {
  // given Node, which has no OffscreenCanvas, and a file that is not an image
  // when the e2e layer is asked for previews
  // then it makes none (the app passes `preview` itself there), and never one of a non-image
  assert.equal(typeof globalThis.OffscreenCanvas, "undefined");
  assert.equal(await previewOf(new Uint8Array([0xff, 0xd8, 0xff]), "image/jpeg"), undefined);
  assert.equal(await previewOf(new Uint8Array(8), "audio/ogg"), undefined);
});

test("the base entry never loads libsodium: only @parley/client/e2e does", () => {
  // given the modules dist/index.js imports, followed to the end
  const seen = new Set();
  const bare = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(new URL(file, new URL("../dist/", import.meta.url)), "utf8");
    for (const [, spec] of source.matchAll(/(?:import|export)\s[^"']*?from\s*["']([^"']+)["']|import\(["']([^"']+)["']\)/g)) {
      if (spec === undefined) continue;
      if (spec.startsWith("./")) walk(spec.slice(2));
      else bare.add(spec);
    }
  };
  walk("index.js");
  // then none of them is libsodium, or any other package (the web chat loads them in a browser as they are)
  assert.deepEqual([...bare], []);
  assert.ok(!seen.has("e2e.js") && !seen.has("e2e-core.js"));
  // and the e2e entry is what imports it
  const e2e = readFileSync(new URL("../dist/e2e-core.js", import.meta.url), "utf8");
  assert.match(e2e, /from "libsodium-wrappers"/);
});

test("a JPEG loses its EXIF and XMP segments before encryption, and keeps everything else", () => {
  // given a JPEG: SOI, an APP0 (JFIF), an APP1 with EXIF (where a GPS position lives), an APP1 with XMP, a
  // comment, then the scan
  const segment = (marker, text) => {
    const body = Buffer.from(text, "latin1");
    return Buffer.concat([Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
  };
  const jfif = segment(0xe0, "JFIF\0\x01\x01");
  const comment = segment(0xfe, "a comment");
  const scan = Buffer.from([0xff, 0xda, 0x00, 0x04, 0x01, 0x02, 0x11, 0x22, 0xff, 0xd9]);
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8]), jfif, segment(0xe1, "Exif\0\0GPS 48.85N 2.35E"),
    segment(0xe1, "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>"), comment, scan]);
  // when it is prepared for an encrypted upload
  const out = Buffer.from(withoutMetadata(new Uint8Array(jpeg), "image/jpeg"));
  // then the EXIF and XMP segments are gone, and the rest is byte for byte the same
  assert.deepEqual(out, Buffer.concat([Buffer.from([0xff, 0xd8]), jfif, comment, scan]));
  // and anything that is not a JPEG is left as it is
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
  assert.equal(withoutMetadata(png, "image/png"), png);
  assert.equal(withoutMetadata(new Uint8Array(jpeg), "application/pdf").length, jpeg.length);
});

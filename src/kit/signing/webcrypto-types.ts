// Names for WebCrypto key types that mean the same under both of our type environments: Node's
// types declare CryptoKey only as a value (its type lives in node:crypto, which kit may not
// import), while @cloudflare/workers-types declares a class. The instance type of the global
// value is the key type in both.
export type CryptoKey = InstanceType<typeof CryptoKey>;
export type CryptoKeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };

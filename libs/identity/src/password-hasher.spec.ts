import { PasswordHasher } from './password-hasher';

describe(PasswordHasher.name, () => {
  const hasher = new PasswordHasher();
  const fast = { N: 2 ** 10, r: 8, p: 1 };

  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hasher.hash('correct horse battery staple', fast);
    await expect(hasher.verify('correct horse battery staple', stored)).resolves.toBe(true);
    await expect(hasher.verify('correct horse battery stapl', stored)).resolves.toBe(false);
  });

  it('uses a fresh salt per hash and never embeds the password', async () => {
    const a = await hasher.hash('same password here', fast);
    const b = await hasher.hash('same password here', fast);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toContain('same password');
  });

  it('uses OWASP-grade default parameters', async () => {
    expect(await hasher.hash('default parameters')).toMatch(/^scrypt\$32768\$8\$1\$/);
  });

  it('treats Unicode normalisation forms of one password as equal (NFKC)', async () => {
    const stored = await hasher.hash('パスワード\u30d1', fast);
    await expect(hasher.verify('パスワード\u30cf\u309a', stored)).resolves.toBe(true);
  });

  it('refuses malformed stored values instead of throwing', async () => {
    await expect(hasher.verify('x', 'plaintext')).resolves.toBe(false);
    await expect(hasher.verify('x', 'bcrypt$1$2$3$4$5')).resolves.toBe(false);
  });

  it('always answers false for the dummy verification', async () => {
    await expect(hasher.verifyDummy('anything')).resolves.toBe(false);
  });
});

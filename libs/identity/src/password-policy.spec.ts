import { loadCommonPasswords, PasswordPolicy } from './password-policy';
import { DomainError, ErrorCode } from '@kura/common';

describe(PasswordPolicy.name, () => {
  const policy = new PasswordPolicy();

  it('ships a common-password list of at least 10,000 entries', () => {
    expect(loadCommonPasswords().size).toBeGreaterThanOrEqual(10_000);
    expect(loadCommonPasswords().has('password')).toBe(true);
  });

  it.each([
    ['correct horse battery staple', 'alice', []],
    ['Kura-Records-2026!', 'alice', []],
    ['長い日本語のパスワードです。とても安全', 'alice', []],
    ['short-pass1', 'alice', ['must be at least 12 characters long']],
    ['password1234', 'alice', ['is in the list of commonly used passwords']],
    ['PASSWORD1234', 'alice', ['is in the list of commonly used passwords']],
    ['qwerty123456', 'alice', ['is in the list of commonly used passwords']],
    ['leavemealone', 'alice', ['is in the list of commonly used passwords']],
    ['Password2026!', 'alice', ['is a commonly used password with digits or symbols added']],
    ['!!!dragon12345', 'alice', ['is a commonly used password with digits or symbols added']],
    ['Long-Username', 'long-username', ['must not be the same as the username']],
    ['x'.repeat(257), 'alice', ['must be at most 256 characters long']],
  ])('%j for %s → %j', (password, username, expected) => {
    expect(policy.violations(password, username)).toEqual(expected);
  });

  it('counts characters, not UTF-16 units or bytes', () => {
    expect(policy.violations('🔒'.repeat(12), 'alice')).toEqual([]);
    expect(policy.violations('🔒'.repeat(6), 'alice')).toEqual(['must be at least 12 characters long']);
  });

  it('throws a validation DomainError naming the field', () => {
    let error: unknown;
    try {
      policy.assertAcceptable('short', 'alice', 'newPassword');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: ErrorCode.Validation, extensions: { errors: [{ field: 'newPassword', messages: ['newPassword must be at least 12 characters long'] }] } });
  });
});

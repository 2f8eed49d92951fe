import { Injectable } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DomainError } from '@kura/common';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/**
 * common-passwords.txt: the 30,000-entry `passwords` frequency list shipped in the npm
 * package zxcvbn 4.4.2 (lib/frequency_lists.js), derived from Mark Burnett's / Xato's
 * 10 million password corpus. zxcvbn is MIT licensed, Copyright (c) 2012-2016 Dan Wheeler
 * and Dropbox, Inc. One password per line, most common first.
 */
const LIST_NAME = 'common-passwords.txt';
// tsc does not copy .txt files into dist/, so the compiled build reads the source copy.
const CANDIDATES = [path.join(__dirname, LIST_NAME), path.resolve(__dirname, '../../../../libs/identity/src', LIST_NAME)];

let commonPasswords: Set<string> | undefined;

export function loadCommonPasswords(): Set<string> {
  commonPasswords ??= new Set(
    readFileSync(CANDIDATES.find((file) => existsSync(file)) ?? CANDIDATES[0], 'utf8')
      .split('\n')
      .map((line) => line.trim().toLowerCase())
      .filter(Boolean),
  );
  return commonPasswords;
}

/** NIST SP 800-63B 5.1.1.2: length floor, blocklist of known-compromised values, no composition rules. */
@Injectable()
export class PasswordPolicy {
  /** Every reason the password is refused; empty when acceptable. */
  violations(password: string, username: string): string[] {
    const problems: string[] = [];
    const length = [...password].length;
    if (length < MIN_PASSWORD_LENGTH) problems.push(`must be at least ${MIN_PASSWORD_LENGTH} characters long`);
    if (length > MAX_PASSWORD_LENGTH) problems.push(`must be at most ${MAX_PASSWORD_LENGTH} characters long`);
    const lowered = password.trim().toLowerCase();
    const common = loadCommonPasswords();
    // "Password2026!" is "password" with a year and a symbol: guessing tools try those first.
    const core = lowered.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
    if (common.has(lowered)) problems.push('is in the list of commonly used passwords');
    else if (core.length >= 4 && core !== lowered && common.has(core)) problems.push('is a commonly used password with digits or symbols added');
    if (username && lowered === username.trim().toLowerCase()) problems.push('must not be the same as the username');
    return problems;
  }

  /** Throws a validation problem naming `field` when the password is refused. */
  assertAcceptable(password: string, username: string, field = 'password'): void {
    const messages = this.violations(password, username);
    if (messages.length) {
      throw DomainError.validation('The password does not meet the password policy.', [{ field, messages: messages.map((m) => `${field} ${m}`) }]);
    }
  }
}

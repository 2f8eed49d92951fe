import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export class LoginDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  username!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;

  @ApiPropertyOptional({
    enum: ['bearer', 'cookie'],
    description: '`cookie` (the web console): the token is set as an HttpOnly, SameSite=Strict cookie instead of returned; unsafe requests then need the X-CSRF-Token header.',
  })
  @IsOptional()
  @IsIn(['bearer', 'cookie'])
  session?: 'bearer' | 'cookie';
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  currentPassword!: string;

  @ApiProperty()
  @IsString()
  @MaxLength(256)
  newPassword!: string;
}

export interface LoginResult {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds until the token expires regardless of activity. */
  expiresIn: number;
  mustChangePassword: boolean;
}

/** A cookie login's answer: no token in the body, only the CSRF token page scripts must echo. */
export interface BrowserLoginResult {
  tokenType: 'Cookie';
  expiresIn: number;
  mustChangePassword: boolean;
  csrfToken: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

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
